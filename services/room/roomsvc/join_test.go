package roomsvc_test

import (
	"fmt"
	"google.golang.org/grpc/status"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/services/room/roomsvc"
)

func TestJoinRules(t *testing.T) {
	e := newEnv(t, roomsvc.Config{})
	create := func(id string, s *pb.RoomSettings) {
		t.Helper()
		must[*pb.Room](t)(e.rooms.CreateRoom(as(alice), &pb.CreateRoomRequest{RoomId: id, Settings: s}))
		must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(alice), &pb.JoinRoomRequest{RoomId: id}))
	}
	create("full", &pb.RoomSettings{MaxPlayers: proto.Int32(1)})
	create("secret", &pb.RoomSettings{Password: proto.String("hunter2")})
	create("pros", &pb.RoomSettings{ProOnly: proto.Bool(true)})
	create("members", &pb.RoomSettings{AllowGuests: proto.Bool(false)})
	create("closed", nil)
	must[*pb.Room](t)(e.rooms.UpdateRoomSettings(as(alice), &pb.UpdateRoomSettingsRequest{RoomId: "closed", Settings: &pb.RoomSettings{Maintenance: proto.Bool(true)}}))
	create("banned", nil)
	must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(bob), &pb.JoinRoomRequest{RoomId: "banned"}))
	must[any](t)(e.rooms.Kick(as(alice), &pb.KickRequest{RoomId: "banned", UserId: "bob", BanSeconds: 600}))

	tests := []struct {
		name     string
		who      auth.Identity
		room     string
		password string
		reason   string // "" means the join succeeds
	}{
		{"full room", bob, "full", "", "ROOM_FULL"},
		{"staff still bound by capacity", mod, "full", "", "ROOM_FULL"},
		{"no password", bob, "secret", "", "WRONG_PASSWORD"},
		{"wrong password", bob, "secret", "hunter3", "WRONG_PASSWORD"},
		{"right password", bob, "secret", "hunter2", ""},
		{"staff need no password", mod, "secret", "", ""},
		{"member in pro room", bob, "pros", "", "PRO_ONLY"},
		{"pro in pro room", pro, "pros", "", ""},
		{"admin in pro room", admin, "pros", "", ""},
		{"guest where guests are not allowed", guest, "members", "", "GUESTS_NOT_ALLOWED"},
		{"member where guests are not allowed", carol, "members", "", ""},
		{"guest in an open room", guest, "full", "", "ROOM_FULL"},
		{"member in maintenance", bob, "closed", "", "MAINTENANCE"},
		{"moderator in maintenance", mod, "closed", "", ""},
		{"banned user", bob, "banned", "", "BANNED"},
		{"unknown room", bob, "nowhere", "", "NOT_FOUND"},
		{"invalid id", bob, "no spaces", "", "INVALID_ARGUMENT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := e.rooms.JoinRoom(as(tc.who), &pb.JoinRoomRequest{RoomId: tc.room, Password: tc.password})
			if tc.reason != "" {
				wantReason(t, err, tc.reason)
				return
			}
			if err != nil {
				t.Fatalf("join: %v", err)
			}
			if resp.GetRoom().GetId() != tc.room || !memberIDs(resp.GetMembers())[tc.who.UserID] {
				t.Fatalf("joined %q with members %v", resp.GetRoom().GetId(), memberIDs(resp.GetMembers()))
			}
		})
	}
}

func TestJoinReply(t *testing.T) {
	e := newEnv(t, roomsvc.Config{OwnerChatLimit: 200})
	must[*pb.Room](t)(e.rooms.CreateRoom(as(alice), &pb.CreateRoomRequest{RoomId: "hall", Settings: &pb.RoomSettings{
		Password:       proto.String("pw"),
		WelcomeMessage: proto.String("Hello %%user%%, welcome to %%user%%'s hall"),
	}}))
	must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(alice), &pb.JoinRoomRequest{RoomId: "hall", ConnectionId: "c-a"}))
	for i := range 105 {
		must[*pb.ChatMessage](t)(e.rooms.SendChat(as(alice), &pb.SendChatRequest{RoomId: "hall", Text: strings.Repeat("x", i%7+1)}))
	}
	resp := must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(bob), &pb.JoinRoomRequest{RoomId: "hall", Password: "pw", ConnectionId: "c-b"}))

	if got, want := resp.GetWelcomeMessage(), "Hello Bob, welcome to Bob's hall"; got != want {
		t.Errorf("welcome = %q, want %q", got, want)
	}
	if n := len(resp.GetChatHistory()); n != 100 {
		t.Errorf("chat history has %d messages, want the last 100", n)
	}
	if ids := memberIDs(resp.GetMembers()); !ids["alice"] || !ids["bob"] || len(ids) != 2 {
		t.Errorf("members = %v", ids)
	}
	r := resp.GetRoom()
	if !r.GetHasPassword() || r.GetPasswordHash() != "" || r.GetSettings().Password != nil {
		t.Errorf("room leaks its password: has=%v hash=%q pw=%v", r.GetHasPassword(), r.GetPasswordHash(), r.GetSettings().Password)
	}
	if r.GetMemberCount() != 2 || r.GetOwnerId() != "alice" {
		t.Errorf("room = %v", r)
	}
	// The same user on a new connection replaces the seat.
	again := must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(bob), &pb.JoinRoomRequest{RoomId: "hall", Password: "pw", ConnectionId: "c-b2"}))
	if again.GetPreviousConnectionId() != "c-b" || again.GetRoom().GetMemberCount() != 2 {
		t.Errorf("rejoin: previous=%q count=%d", again.GetPreviousConnectionId(), again.GetRoom().GetMemberCount())
	}
	// Events: UserJoined once per member (not for the seat replacement).
	joined := 0
	for _, ev := range e.be.events(t, "hall") {
		if ev.GetUserJoined() != nil {
			joined++
		}
	}
	if joined != 2 {
		t.Errorf("UserJoined events = %d, want 2", joined)
	}
	if n := e.evs.count(pb.EventType_EVENT_TYPE_ROOM_JOINED); n != 2 {
		t.Errorf("ROOM_JOINED analytics = %d, want 2", n)
	}
	if n := e.evs.count(pb.EventType_EVENT_TYPE_ROOM_CREATED); n != 1 {
		t.Errorf("ROOM_CREATED analytics = %d, want 1", n)
	}
	// Stored hash is argon2id, never the password.
	stored := must[*pb.Room](t)(e.state.GetRoom(as(alice), &pb.GetRoomRequest{RoomId: "hall"}))
	if !strings.HasPrefix(stored.GetPasswordHash(), "$argon2id$") || strings.Contains(stored.String(), `"pw"`) {
		t.Errorf("stored hash = %q", stored.GetPasswordHash())
	}
}

func TestJoinCreates(t *testing.T) {
	e := newEnv(t, roomsvc.Config{})
	resp := must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(alice), &pb.JoinRoomRequest{
		RoomId: "jam", Create: true, Settings: &pb.RoomSettings{Name: proto.String("Jam session")},
	}))
	if resp.GetRoom().GetOwnerId() != "alice" || resp.GetRoom().GetSettings().GetName() != "Jam session" {
		t.Fatalf("room = %v", resp.GetRoom())
	}
	_, err := e.rooms.JoinRoom(as(bob), &pb.JoinRoomRequest{RoomId: "nope"})
	wantReason(t, err, "NOT_FOUND")
}

// TestPasswordGuessingIsLimited: wrong passwords pause the guesser, then
// lock them out of the room until a time the refusal names; the right
// password does not get in during the lockout; other people and the owner
// are not locked out; the windows pass.
func TestPasswordGuessingIsLimited(t *testing.T) {
	e := newEnv(t, roomsvc.Config{})
	must[*pb.Room](t)(e.rooms.CreateRoom(as(alice), &pb.CreateRoomRequest{RoomId: "vault", Settings: &pb.RoomSettings{Password: proto.String("opensesame")}}))
	try := func(id auth.Identity, pw string) error {
		_, err := e.rooms.JoinRoom(as(id), &pb.JoinRoomRequest{RoomId: "vault", Password: pw})
		return err
	}
	for i := range 3 {
		wantReason(t, try(bob, fmt.Sprint("guess", i)), "WRONG_PASSWORD")
	}
	err := try(bob, "guess3")
	wantReason(t, err, "RATE_LIMITED")
	if !strings.Contains(status.Convert(err).Message(), "try again after") {
		t.Fatalf("the pause does not say when it ends: %v", err)
	}
	// Carol is not held up by bob's guesses, nor is the owner.
	must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(carol), &pb.JoinRoomRequest{RoomId: "vault", Password: "opensesame"}))
	must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(alice), &pb.JoinRoomRequest{RoomId: "vault"}))

	// Pause after pause until the lockout: 10 wrong passwords in 15 min.
	for range 2 {
		e.advance(31 * time.Second)
		for i := range 3 {
			wantReason(t, try(bob, fmt.Sprint("again", i)), "WRONG_PASSWORD")
		}
	}
	e.advance(31 * time.Second)
	wantReason(t, try(bob, "last"), "WRONG_PASSWORD")
	e.advance(31 * time.Second)
	err = try(bob, "opensesame")
	wantReason(t, err, "LOCKED_OUT")
	if !strings.Contains(status.Convert(err).Message(), "try again after") {
		t.Fatalf("the lockout does not say when it ends: %v", err)
	}
	e.advance(15 * time.Minute)
	must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(bob), &pb.JoinRoomRequest{RoomId: "vault", Password: "opensesame"}))
}
