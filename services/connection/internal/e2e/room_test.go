package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/connection/connsvc"
	"github.com/pianorhythm/server/services/connection/internal/codec"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func isNotes(m *pb.ServerMessage) bool { return m.GetNotes() != nil }

// quietFor asserts that no message matching bad arrives before c answers a
// ping (everything queued before the pong has been delivered by then).
func (c *client) quietFor(bad func(*pb.ServerMessage) bool) {
	c.t.Helper()
	id := c.send(&pb.ClientMessage{Payload: &pb.ClientMessage_Ping{Ping: &pb.Ping{ClientTime: 1}}})
	c.await("pong", 5*time.Second, func(m *pb.ServerMessage) bool {
		if bad(m) {
			c.t.Fatalf("unexpected %v", m)
		}
		return m.GetId() == id && m.GetPong() != nil
	})
}

func TestNotesAndChatReachOnlyTheRoom(t *testing.T) {
	w := newWorld(t)
	e := w.edge(connsvc.Config{})
	a := e.dial(t, codec.Proto, "")
	b := e.dial(t, codec.JSON, "")
	c := e.dial(t, codec.JSON, "")
	if a.welcome.GetToken() == "" || a.welcome.GetConnectionId() == "" {
		t.Fatalf("guest welcome without token or connection id: %v", a.welcome)
	}
	a.join("jam", true)
	b.join("jam", false)
	c.join("other", true)

	a.send(notes(3))
	got := b.await("notes", 5*time.Second, isNotes).GetNotes()
	if got.GetUserId() != a.id() || len(got.GetEvents()) != 3 || got.GetEvents()[0].GetKind() != pb.NoteKind_NOTE_ON {
		t.Fatalf("b got %v", got)
	}
	// Proto and JSON members both hear JSON-sent notes.
	b.send(notes(1))
	if got := a.await("notes", 5*time.Second, isNotes).GetNotes(); got.GetUserId() != b.id() {
		t.Fatalf("a got %v", got)
	}

	id := a.send(&pb.ClientMessage{Payload: &pb.ClientMessage_Chat{Chat: &pb.ChatSend{Text: "hi"}}})
	// The ack and the chat event travel different paths (reply, Redis):
	// either may come first.
	acked := false
	for _, cl := range []*client{a, b} {
		m := cl.await("chat", 5*time.Second, func(m *pb.ServerMessage) bool {
			acked = acked || (cl == a && m.GetId() == id && m.GetAck() != nil)
			return m.GetChat() != nil
		})
		if msg := m.GetChat().GetMessage(); msg.GetText() != "hi" || msg.GetUserId() != a.id() {
			t.Fatalf("chat %v", msg)
		}
	}
	if !acked && a.reply(id).GetAck() == nil {
		t.Fatal("chat not acknowledged")
	}
	c.quietFor(func(m *pb.ServerMessage) bool { return isNotes(m) || m.GetChat() != nil })
	a.quietFor(func(m *pb.ServerMessage) bool { return isNotes(m) && m.GetNotes().GetUserId() == a.id() })
}

func TestLateJoinerGetsLast100ChatMessages(t *testing.T) {
	w := newWorld(t)
	e := w.edge(connsvc.Config{})
	a := e.dial(t, codec.JSON, "")
	a.join("history", true)
	state := pb.NewStateServiceClient(w.state)
	for i := range 105 {
		_, err := state.SaveChatMessage(context.Background(), &pb.SaveChatMessageRequest{Message: &pb.ChatMessage{
			Id: fmt.Sprintf("m%03d", i), RoomId: "history", UserId: a.id(), Text: fmt.Sprint(i), SentAt: timestamppb.Now()}})
		if err != nil {
			t.Fatal(err)
		}
	}
	late := e.dial(t, codec.Proto, "")
	joined := late.join("history", false)
	h := joined.GetChatHistory()
	if len(h) != 100 || h[0].GetText() != "5" || h[99].GetText() != "104" {
		t.Fatalf("history: %d messages, first %v", len(h), h[0])
	}
}

func TestKickedClientCannotRejoinUntilBanEnds(t *testing.T) {
	w := newWorld(t)
	e := w.edge(connsvc.Config{})
	owner := e.dial(t, codec.JSON, "")
	guest := e.dial(t, codec.JSON, "")
	owner.join("club", true)
	guest.join("club", false)

	const ban = 2
	id := owner.send(&pb.ClientMessage{Payload: &pb.ClientMessage_Kick{Kick: &pb.Kick{UserId: guest.id(), BanSeconds: ban}}})
	if m := owner.reply(id); m.GetAck() == nil {
		t.Fatalf("kick: %v", m)
	}
	kicked := guest.await("kicked", 5*time.Second, func(m *pb.ServerMessage) bool { return m.GetKicked() != nil }).GetKicked()
	if kicked.GetUserId() != guest.id() || kicked.GetBanSeconds() != ban {
		t.Fatalf("kicked %v", kicked)
	}
	bannedAt := time.Now()
	// Removed: notes from the owner no longer reach the kicked client.
	owner.send(notes(1))
	guest.quietFor(isNotes)

	m := guest.reply(guest.send(&pb.ClientMessage{Payload: &pb.ClientMessage_Join{Join: &pb.Join{Room: "club"}}}))
	if m.GetError().GetCode() != "BANNED" {
		t.Fatalf("rejoin during ban: %v", m)
	}
	time.Sleep(time.Until(bannedAt.Add(ban*time.Second + 200*time.Millisecond)))
	guest.join("club", false)
}

// TestProfileChangeReachesRoomOnce: the seat holder is the one publisher
// of memberUpdated, whatever changed the profile.
func TestProfileChangeReachesRoomOnce(t *testing.T) {
	w := newWorld(t)
	e := w.edge(connsvc.Config{})
	a := e.dial(t, codec.JSON, "")
	b := e.dial(t, codec.JSON, "")
	a.join("profiles", true)
	b.join("profiles", false)
	name := "Renamed"
	if m := a.reply(a.send(&pb.ClientMessage{Payload: &pb.ClientMessage_SetProfile{SetProfile: &pb.SetProfile{Name: &name}}})); m.GetProfile() == nil {
		t.Fatalf("setProfile: %v", m)
	}
	m := b.await("memberUpdated", 5*time.Second, func(m *pb.ServerMessage) bool { return m.GetMemberUpdated() != nil })
	if u := m.GetMemberUpdated().GetUser(); u.GetId() != a.id() || u.GetDisplayName() != name {
		t.Fatalf("memberUpdated %v", m)
	}
	b.quietFor(func(m *pb.ServerMessage) bool { return m.GetMemberUpdated() != nil })
}
