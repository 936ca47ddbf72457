package roomsvc_test

import (
	"testing"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/room/roomsvc"
)

func TestKickWithBan(t *testing.T) {
	e := newEnv(t, roomsvc.Config{})
	must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(alice), &pb.JoinRoomRequest{RoomId: "club", Create: true}))
	must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(bob), &pb.JoinRoomRequest{RoomId: "club"}))
	must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(carol), &pb.JoinRoomRequest{RoomId: "club"}))
	must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(mod), &pb.JoinRoomRequest{RoomId: "club"}))

	_, err := e.rooms.Kick(as(bob), &pb.KickRequest{RoomId: "club", UserId: "carol"})
	wantReason(t, err, "PERMISSION_DENIED")
	_, err = e.rooms.Kick(as(alice), &pb.KickRequest{RoomId: "club", UserId: "mo"})
	wantReason(t, err, "PERMISSION_DENIED")

	// Kick without ban: back at once.
	must[any](t)(e.rooms.Kick(as(alice), &pb.KickRequest{RoomId: "club", UserId: "carol"}))
	must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(carol), &pb.JoinRoomRequest{RoomId: "club"}))

	// Kick with a 60 s ban: out until it expires.
	must[any](t)(e.rooms.Kick(as(alice), &pb.KickRequest{RoomId: "club", UserId: "bob", BanSeconds: 60, Reason: "spam"}))
	members := must[*pb.RoomMembersResponse](t)(e.rooms.ListMembers(as(alice), &pb.RoomMembersRequest{RoomId: "club"}))
	if memberIDs(members.GetMembers())["bob"] {
		t.Fatal("bob still a member after the kick")
	}
	_, err = e.rooms.JoinRoom(as(bob), &pb.JoinRoomRequest{RoomId: "club"})
	wantReason(t, err, "BANNED")
	e.advance(59 * time.Second)
	_, err = e.rooms.JoinRoom(as(bob), &pb.JoinRoomRequest{RoomId: "club"})
	wantReason(t, err, "BANNED")
	e.advance(2 * time.Second)
	must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(bob), &pb.JoinRoomRequest{RoomId: "club"}))

	// A ban can be lifted early by the owner.
	must[any](t)(e.rooms.Kick(as(mod), &pb.KickRequest{RoomId: "club", UserId: "bob", BanSeconds: 3600}))
	_, err = e.rooms.Unban(as(carol), &pb.UnbanFromRoomRequest{RoomId: "club", UserId: "bob"})
	wantReason(t, err, "PERMISSION_DENIED")
	must[any](t)(e.rooms.Unban(as(alice), &pb.UnbanFromRoomRequest{RoomId: "club", UserId: "bob"}))
	must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(bob), &pb.JoinRoomRequest{RoomId: "club"}))

	// Kicking someone who is not there without a ban is an error.
	_, err = e.rooms.Kick(as(alice), &pb.KickRequest{RoomId: "club", UserId: "nobody"})
	wantReason(t, err, "NOT_IN_ROOM")

	var kicked, leftKicked int
	for _, ev := range e.be.events(t, "club") {
		if k := ev.GetKicked(); k != nil && k.GetByUserId() != "" {
			kicked++
		}
		if l := ev.GetUserLeft(); l.GetReason() == "kicked" {
			leftKicked++
		}
	}
	if kicked != 3 || leftKicked != 3 {
		t.Fatalf("Kicked events = %d, UserLeft(kicked) = %d; want 3 and 3", kicked, leftKicked)
	}
}

func TestMaintenance(t *testing.T) {
	e := newEnv(t, roomsvc.Config{})
	must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(alice), &pb.JoinRoomRequest{RoomId: "lobby"}))

	_, err := e.rooms.SetMaintenance(as(mod), &pb.SetMaintenanceRequest{Enabled: true})
	wantReason(t, err, "PERMISSION_DENIED")
	cfg := must[*pb.ServerConfig](t)(e.rooms.SetMaintenance(as(admin), &pb.SetMaintenanceRequest{Enabled: true}))
	if !cfg.GetMaintenance() {
		t.Fatal("maintenance not on")
	}
	// Members inside stay and keep chatting; newcomers are refused; staff
	// still come in.
	must[*pb.ChatMessage](t)(e.rooms.SendChat(as(alice), &pb.SendChatRequest{RoomId: "lobby", Text: "still here"}))
	_, err = e.rooms.JoinRoom(as(bob), &pb.JoinRoomRequest{RoomId: "lobby"})
	wantReason(t, err, "MAINTENANCE")
	_, err = e.rooms.JoinRoom(as(bob), &pb.JoinRoomRequest{RoomId: "new", Create: true})
	wantReason(t, err, "MAINTENANCE")
	must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(mod), &pb.JoinRoomRequest{RoomId: "lobby"}))

	must[*pb.ServerConfig](t)(e.rooms.SetMaintenance(as(admin), &pb.SetMaintenanceRequest{Enabled: false}))
	must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(bob), &pb.JoinRoomRequest{RoomId: "lobby"}))
}

func TestLeaveOtherUser(t *testing.T) {
	e := newEnv(t, roomsvc.Config{})
	must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(alice), &pb.JoinRoomRequest{RoomId: "lobby", ConnectionId: "a1"}))
	must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(bob), &pb.JoinRoomRequest{RoomId: "lobby", ConnectionId: "b1"}))

	_, err := e.rooms.LeaveRoom(as(bob), &pb.LeaveRoomRequest{RoomId: "lobby", UserId: "alice"})
	wantReason(t, err, "PERMISSION_DENIED")
	// A stale connection id leaves the seat alone.
	must[any](t)(e.rooms.LeaveRoom(as(ghost), &pb.LeaveRoomRequest{RoomId: "lobby", UserId: "alice", ConnectionId: "old", Reason: "ghost"}))
	// The GhostTracker (an internal identity) removes alice's real seat.
	must[any](t)(e.rooms.LeaveRoom(as(ghost), &pb.LeaveRoomRequest{RoomId: "lobby", UserId: "alice", ConnectionId: "a1", Reason: "ghost"}))
	// A moderator removes bob.
	must[any](t)(e.rooms.LeaveRoom(as(mod), &pb.LeaveRoomRequest{RoomId: "lobby", UserId: "bob"}))
	members := must[*pb.RoomMembersResponse](t)(e.rooms.ListMembers(as(mod), &pb.RoomMembersRequest{RoomId: "lobby"}))
	if len(members.GetMembers()) != 0 {
		t.Fatalf("members = %v", memberIDs(members.GetMembers()))
	}
	var reasons []string
	for _, ev := range e.be.events(t, "lobby") {
		if l := ev.GetUserLeft(); l != nil {
			reasons = append(reasons, l.GetUserId()+":"+l.GetReason())
		}
	}
	if len(reasons) != 2 || reasons[0] != "alice:ghost" || reasons[1] != "bob:left" {
		t.Fatalf("UserLeft = %v", reasons)
	}
	if n := e.evs.count(pb.EventType_EVENT_TYPE_ROOM_LEFT); n != 2 {
		t.Fatalf("ROOM_LEFT analytics = %d", n)
	}
	// Internal identities never join.
	_, err = e.rooms.JoinRoom(as(ghost), &pb.JoinRoomRequest{RoomId: "lobby"})
	wantReason(t, err, "PERMISSION_DENIED")
}
