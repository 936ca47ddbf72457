package roomsvc_test

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/services/room/roomsvc"
)

// TestRoomActorRestart crashes a Room actor in the middle of a chat
// message: the supervisor rebuilds it, Started reloads the room from
// state, the message (idempotent by its id) is handled again and saved
// once, and the members see nothing but a delay.
func TestRoomActorRestart(t *testing.T) {
	e := newEnv(t, roomsvc.Config{})
	must[*pb.Room](t)(e.rooms.CreateRoom(as(alice), &pb.CreateRoomRequest{RoomId: "calm", Settings: &pb.RoomSettings{
		Password: proto.String("pw"), MaxPlayers: proto.Int32(4), WelcomeMessage: proto.String("hi %%user%%"),
	}}))
	for _, id := range []auth.Identity{alice, bob, carol} {
		must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(id), &pb.JoinRoomRequest{RoomId: "calm", Password: "pw"}))
	}
	before := len(e.be.events(t, "calm"))

	var starts, crashes atomic.Int32
	e.svc.SetHook(func(roomID string, msg any) {
		if roomID != "calm" {
			return
		}
		if msg == nil {
			starts.Add(1)
			return
		}
		if strings.HasSuffix(fmt.Sprintf("%T", msg), "chatCmd") && crashes.Add(1) == 1 {
			panic("injected room failure")
		}
	})

	msg := must[*pb.ChatMessage](t)(e.rooms.SendChat(as(bob), &pb.SendChatRequest{RoomId: "calm", Text: "still there?"}))
	if msg.GetText() != "still there?" {
		t.Fatalf("chat = %v", msg)
	}
	if crashes.Load() != 2 || starts.Load() != 1 {
		t.Fatalf("crashes=%d restarts=%d, want the message seen twice and one restart", crashes.Load(), starts.Load())
	}

	// Members, owner and settings came back from state.
	members := must[*pb.RoomMembersResponse](t)(e.rooms.ListMembers(as(alice), &pb.RoomMembersRequest{RoomId: "calm"}))
	if ids := memberIDs(members.GetMembers()); len(ids) != 3 || !ids["alice"] || !ids["bob"] || !ids["carol"] {
		t.Fatalf("members after restart = %v", ids)
	}
	_, err := e.rooms.ClaimOwnership(as(carol), &pb.ClaimOwnershipRequest{RoomId: "calm"})
	wantReason(t, err, "PERMISSION_DENIED")
	_, err = e.rooms.JoinRoom(as(pro), &pb.JoinRoomRequest{RoomId: "calm", Password: "nope"})
	wantReason(t, err, "WRONG_PASSWORD")
	resp := must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(pro), &pb.JoinRoomRequest{RoomId: "calm", Password: "pw"}))
	if resp.GetWelcomeMessage() != "hi Pat" || resp.GetRoom().GetMemberCount() != 4 {
		t.Fatalf("join after restart: %q, %d members", resp.GetWelcomeMessage(), resp.GetRoom().GetMemberCount())
	}
	_, err = e.rooms.JoinRoom(as(guest), &pb.JoinRoomRequest{RoomId: "calm", Password: "pw"})
	wantReason(t, err, "ROOM_FULL")

	// The members saw exactly one chat message and one joiner, nothing else.
	var kinds []string
	for _, ev := range e.be.events(t, "calm")[before:] {
		switch {
		case ev.GetChat() != nil:
			kinds = append(kinds, "chat")
		case ev.GetUserJoined() != nil:
			kinds = append(kinds, "joined")
		default:
			kinds = append(kinds, fmt.Sprintf("%T", ev.GetEvent()))
		}
	}
	if fmt.Sprint(kinds) != "[chat joined]" {
		t.Fatalf("events after the crash = %v", kinds)
	}
}
