package roomsvc_test

import (
	"fmt"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/rpc"
	"github.com/pianorhythm/server/services/room/roomsvc"
)

// TestTwoInstancesAgree runs two room services on one state store: joins
// race through both, capacity holds across them, and both see the same
// members.
func TestTwoInstancesAgree(t *testing.T) {
	e := newEnv(t, roomsvc.Config{})
	_, other := e.startInstance()
	replicas := []pb.RoomServiceClient{e.rooms, other}
	must[*pb.Room](t)(e.rooms.CreateRoom(as(alice), &pb.CreateRoomRequest{RoomId: "duo", Settings: &pb.RoomSettings{MaxPlayers: proto.Int32(5)}}))

	const joiners = 12
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		results = map[string]int{}
	)
	for i := range joiners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := auth.Identity{UserID: fmt.Sprintf("u%02d", i), Roles: []pb.Role{pb.Role_MEMBER}}
			_, err := replicas[i%2].JoinRoom(as(id), &pb.JoinRoomRequest{RoomId: "duo"})
			mu.Lock()
			defer mu.Unlock()
			results[rpc.Reason(err)]++
		}()
	}
	wg.Wait()
	if results[""] != 5 || results["ROOM_FULL"] != joiners-5 {
		t.Fatalf("join results = %v, want 5 joined and %d ROOM_FULL", results, joiners-5)
	}

	list := func(c pb.RoomServiceClient) map[string]bool {
		return memberIDs(must[*pb.RoomMembersResponse](t)(c.ListMembers(as(mod), &pb.RoomMembersRequest{RoomId: "duo"})).GetMembers())
	}
	a, b := list(e.rooms), list(other)
	if len(a) != 5 || fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("instances disagree: %v vs %v", a, b)
	}

	// A member who joined through one instance chats and leaves through
	// the other; both agree afterwards.
	var someone string
	for id := range a {
		someone = id
		break
	}
	who := auth.Identity{UserID: someone, Roles: []pb.Role{pb.Role_MEMBER}}
	for _, c := range replicas {
		must[*pb.ChatMessage](t)(c.SendChat(as(who), &pb.SendChatRequest{RoomId: "duo", Text: "hello from both"}))
	}
	must[any](t)(other.LeaveRoom(as(who), &pb.LeaveRoomRequest{RoomId: "duo"}))
	must[any](t)(e.rooms.LeaveRoom(as(who), &pb.LeaveRoomRequest{RoomId: "duo"})) // already gone: no-op
	a, b = list(e.rooms), list(other)
	if len(a) != 4 || a[someone] || fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("after leave: %v vs %v", a, b)
	}
	// The freed seat can be taken through either instance, once.
	must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(carol), &pb.JoinRoomRequest{RoomId: "duo"}))
	_, err := other.JoinRoom(as(bob), &pb.JoinRoomRequest{RoomId: "duo"})
	wantReason(t, err, "ROOM_FULL")
	// Settings changed on one instance rule joins on the other.
	must[*pb.Room](t)(other.UpdateRoomSettings(as(alice), &pb.UpdateRoomSettingsRequest{RoomId: "duo", Settings: &pb.RoomSettings{
		MaxPlayers: proto.Int32(10), AllowGuests: proto.Bool(false),
	}}))
	_, err = e.rooms.JoinRoom(as(guest), &pb.JoinRoomRequest{RoomId: "duo"})
	wantReason(t, err, "GUESTS_NOT_ALLOWED")
	must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(bob), &pb.JoinRoomRequest{RoomId: "duo"}))
}
