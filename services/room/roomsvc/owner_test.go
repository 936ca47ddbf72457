package roomsvc_test

import (
	"testing"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/room/roomsvc"
)

func TestOwnerSeatHandover(t *testing.T) {
	e := newEnv(t, roomsvc.Config{OwnerSeatHold: 15 * time.Second})
	must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(alice), &pb.JoinRoomRequest{RoomId: "stage", Create: true}))
	must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(bob), &pb.JoinRoomRequest{RoomId: "stage"}))
	must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(carol), &pb.JoinRoomRequest{RoomId: "stage"}))
	claim := func(who string) (*pb.Room, error) {
		switch who {
		case "bob":
			return e.rooms.ClaimOwnership(as(bob), &pb.ClaimOwnershipRequest{RoomId: "stage"})
		case "carol":
			return e.rooms.ClaimOwnership(as(carol), &pb.ClaimOwnershipRequest{RoomId: "stage"})
		}
		return e.rooms.ClaimOwnership(as(alice), &pb.ClaimOwnershipRequest{RoomId: "stage"})
	}

	// While the owner is here the seat is theirs.
	_, err := claim("bob")
	wantReason(t, err, "PERMISSION_DENIED")

	// The owner leaves and comes back within the hold: still the owner.
	must[any](t)(e.rooms.LeaveRoom(as(alice), &pb.LeaveRoomRequest{RoomId: "stage"}))
	e.advance(14 * time.Second)
	_, err = claim("bob")
	wantReason(t, err, "PERMISSION_DENIED")
	resp := must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(alice), &pb.JoinRoomRequest{RoomId: "stage"}))
	if resp.GetRoom().GetOwnerId() != "alice" {
		t.Fatalf("owner after return = %q", resp.GetRoom().GetOwnerId())
	}
	e.advance(time.Minute) // the old hold timer must not free the seat
	_, err = claim("bob")
	wantReason(t, err, "PERMISSION_DENIED")
	if r := must[*pb.Room](t)(e.rooms.GetRoom(as(bob), &pb.GetRoomRequest{RoomId: "stage"})); r.GetOwnerId() != "alice" {
		t.Fatalf("owner = %q after a stale hold timer", r.GetOwnerId())
	}

	// The owner leaves for good: after 15 s the seat falls free and the
	// next member claims it.
	must[any](t)(e.rooms.LeaveRoom(as(alice), &pb.LeaveRoomRequest{RoomId: "stage"}))
	e.advance(15*time.Second - time.Millisecond)
	_, err = claim("bob")
	wantReason(t, err, "PERMISSION_DENIED")
	e.advance(time.Millisecond)
	r := must[*pb.Room](t)(claim("bob"))
	if r.GetOwnerId() != "bob" {
		t.Fatalf("owner after claim = %q", r.GetOwnerId())
	}
	_, err = claim("carol")
	wantReason(t, err, "PERMISSION_DENIED")
	// Returning late, alice is a plain member.
	resp = must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(alice), &pb.JoinRoomRequest{RoomId: "stage"}))
	if resp.GetRoom().GetOwnerId() != "bob" {
		t.Fatalf("owner = %q", resp.GetRoom().GetOwnerId())
	}

	var changes [][2]string
	for _, ev := range e.be.events(t, "stage") {
		if oc := ev.GetOwnerChanged(); oc != nil {
			changes = append(changes, [2]string{oc.GetPreviousOwnerId(), oc.GetOwnerId()})
		}
	}
	want := [][2]string{{"alice", ""}, {"", "bob"}}
	if len(changes) != len(want) || changes[0] != want[0] || changes[1] != want[1] {
		t.Fatalf("OwnerChanged events = %v, want %v", changes, want)
	}
}

func TestTransferOwnership(t *testing.T) {
	e := newEnv(t, roomsvc.Config{})
	must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(alice), &pb.JoinRoomRequest{RoomId: "keys", Create: true}))
	must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(bob), &pb.JoinRoomRequest{RoomId: "keys"}))

	_, err := e.rooms.TransferOwnership(as(bob), &pb.TransferOwnershipRequest{RoomId: "keys", UserId: "bob"})
	wantReason(t, err, "PERMISSION_DENIED")
	_, err = e.rooms.TransferOwnership(as(alice), &pb.TransferOwnershipRequest{RoomId: "keys", UserId: "carol"})
	wantReason(t, err, "NOT_IN_ROOM")
	r := must[*pb.Room](t)(e.rooms.TransferOwnership(as(alice), &pb.TransferOwnershipRequest{RoomId: "keys", UserId: "bob"}))
	if r.GetOwnerId() != "bob" {
		t.Fatalf("owner = %q", r.GetOwnerId())
	}
	// The new owner changes settings; the old one no longer may.
	_, err = e.rooms.Kick(as(alice), &pb.KickRequest{RoomId: "keys", UserId: "bob"})
	wantReason(t, err, "PERMISSION_DENIED")
	// A moderator may hand it anywhere.
	must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(mod), &pb.JoinRoomRequest{RoomId: "keys"}))
	r = must[*pb.Room](t)(e.rooms.TransferOwnership(as(mod), &pb.TransferOwnershipRequest{RoomId: "keys", UserId: "alice"}))
	if r.GetOwnerId() != "alice" {
		t.Fatalf("owner = %q", r.GetOwnerId())
	}
	r = must[*pb.Room](t)(e.rooms.ClaimOwnership(as(mod), &pb.ClaimOwnershipRequest{RoomId: "keys"}))
	if r.GetOwnerId() != "mo" {
		t.Fatalf("moderator claim: owner = %q", r.GetOwnerId())
	}
}
