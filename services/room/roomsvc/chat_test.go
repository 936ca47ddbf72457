package roomsvc_test

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/room/roomsvc"
)

func TestChatValidation(t *testing.T) {
	e := newEnv(t, roomsvc.Config{ChatLimit: 100})
	must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(bob), &pb.JoinRoomRequest{RoomId: "lobby"}))
	tests := []struct {
		name, text, want, reason string
	}{
		{"plain", "hello", "hello", ""},
		{"control and invisible characters stripped", "he\x00l\x07lo\u200b\r", "hello", ""},
		{"bidi override stripped", "\u202Eevil\u2066", "evil", ""},
		{"newline kept, edges trimmed", "  a\nb  ", "a\nb", ""},
		{"512 characters", strings.Repeat("é", 512), strings.Repeat("é", 512), ""},
		{"513 characters", strings.Repeat("é", 513), "", "INVALID_ARGUMENT"},
		{"empty", "", "", "INVALID_ARGUMENT"},
		{"only controls", "\x01\x02 ", "", "INVALID_ARGUMENT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg, err := e.rooms.SendChat(as(bob), &pb.SendChatRequest{RoomId: "lobby", Text: tc.text})
			if tc.reason != "" {
				wantReason(t, err, tc.reason)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if msg.GetText() != tc.want || msg.GetUserId() != "bob" || msg.GetDisplayName() != "Bob" || msg.GetId() == "" || msg.GetRoomId() != "lobby" {
				t.Fatalf("message = %v", msg)
			}
		})
	}
	_, err := e.rooms.SendChat(as(carol), &pb.SendChatRequest{RoomId: "lobby", Text: "hi"})
	wantReason(t, err, "NOT_IN_ROOM")
}

func TestChatRateAndRules(t *testing.T) {
	e := newEnv(t, roomsvc.Config{})
	must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(alice), &pb.JoinRoomRequest{RoomId: "talk", Create: true}))
	must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(bob), &pb.JoinRoomRequest{RoomId: "talk"}))
	send := func(ctxUser string) error {
		id := bob
		if ctxUser == "alice" {
			id = alice
		}
		_, err := e.rooms.SendChat(as(id), &pb.SendChatRequest{RoomId: "talk", Text: "la"})
		return err
	}
	t.Run("members get 4 per 6s", func(t *testing.T) {
		for i := range 4 {
			if err := send("bob"); err != nil {
				t.Fatalf("message %d: %v", i+1, err)
			}
		}
		wantReason(t, send("bob"), "RATE_LIMITED")
		e.advance(6 * time.Second)
		if err := send("bob"); err != nil {
			t.Fatalf("after the window: %v", err)
		}
	})
	t.Run("the owner gets 10", func(t *testing.T) {
		for i := range 10 {
			if err := send("alice"); err != nil {
				t.Fatalf("message %d: %v", i+1, err)
			}
		}
		wantReason(t, send("alice"), "RATE_LIMITED")
	})
	e.advance(6 * time.Second)
	t.Run("only the owner may chat", func(t *testing.T) {
		must[*pb.Room](t)(e.rooms.UpdateRoomSettings(as(alice), &pb.UpdateRoomSettingsRequest{RoomId: "talk", Settings: &pb.RoomSettings{OnlyOwnerCanChat: proto.Bool(true)}}))
		wantReason(t, send("bob"), "PERMISSION_DENIED")
		if err := send("alice"); err != nil {
			t.Fatal(err)
		}
	})
	posted := 0
	for _, ev := range e.be.events(t, "talk") {
		if ev.GetChat() != nil {
			posted++
		}
	}
	if posted != 4+1+10+1 {
		t.Errorf("ChatPosted events = %d, want 16", posted)
	}
	if n := e.evs.count(pb.EventType_EVENT_TYPE_CHAT); n != 16 {
		t.Errorf("CHAT analytics = %d, want 16", n)
	}
}

func TestChatModeration(t *testing.T) {
	e := newEnv(t, roomsvc.Config{})
	must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(alice), &pb.JoinRoomRequest{RoomId: "mod", Create: true}))
	m1 := must[*pb.ChatMessage](t)(e.rooms.SendChat(as(alice), &pb.SendChatRequest{RoomId: "mod", Text: "one"}))
	must[*pb.ChatMessage](t)(e.rooms.SendChat(as(alice), &pb.SendChatRequest{RoomId: "mod", Text: "two"}))

	_, err := e.rooms.DeleteChatMessage(as(alice), &pb.DeleteChatMessageRequest{RoomId: "mod", MessageId: m1.GetId()})
	wantReason(t, err, "PERMISSION_DENIED")
	must[any](t)(e.rooms.DeleteChatMessage(as(mod), &pb.DeleteChatMessageRequest{RoomId: "mod", MessageId: m1.GetId()}))
	hist := must[*pb.ChatHistoryResponse](t)(e.rooms.ChatHistory(as(alice), &pb.ChatHistoryRequest{RoomId: "mod"}))
	if len(hist.GetMessages()) != 1 || hist.GetMessages()[0].GetText() != "two" {
		t.Fatalf("history after delete = %v", hist.GetMessages())
	}
	_, err = e.rooms.ChatHistory(as(bob), &pb.ChatHistoryRequest{RoomId: "mod"})
	wantReason(t, err, "NOT_IN_ROOM")

	_, err = e.rooms.ClearChat(as(alice), &pb.ClearChatRequest{RoomId: "mod"})
	wantReason(t, err, "PERMISSION_DENIED")
	must[any](t)(e.rooms.ClearChat(as(admin), &pb.ClearChatRequest{RoomId: "mod"}))
	hist = must[*pb.ChatHistoryResponse](t)(e.rooms.ChatHistory(as(mod), &pb.ChatHistoryRequest{RoomId: "mod"}))
	if len(hist.GetMessages()) != 0 {
		t.Fatalf("history after clear = %v", hist.GetMessages())
	}
	var deleted, cleared int
	for _, ev := range e.be.events(t, "mod") {
		if ev.GetChatDeleted().GetMessageId() == m1.GetId() {
			deleted++
		}
		if ev.GetChatCleared() != nil {
			cleared++
		}
	}
	if deleted != 1 || cleared != 1 {
		t.Fatalf("ChatDeleted=%d ChatCleared=%d", deleted, cleared)
	}
}
