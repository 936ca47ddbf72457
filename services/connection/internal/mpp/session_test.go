package mpp_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/connection/internal/mpp"
	"github.com/pianorhythm/server/services/connection/internal/mpp/mpptest"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// The handshake works in either order: the welcome is sent at connect,
// the client's hi may come before or after it reaches the session.
func TestHandshake(t *testing.T) {
	for _, welcomeFirst := range []bool{true, false} {
		t.Run(fmt.Sprintf("welcome first %v", welcomeFirst), func(t *testing.T) {
			w := &wire{}
			clk := &clock{now: t0}
			s := mpp.NewSession(mpp.Config{Now: clk.Now, MOTD: "be nice"}, w.push)
			s.Open()
			var b mpptest.Challenge
			w.only(t, "b", &b)
			if b.Code == "" {
				t.Fatal("the b challenge needs a code the browser client can run")
			}
			if welcomeFirst {
				s.Deliver(welcome(cat, "guest-token"), nil)
				if got := w.take(t); len(got) != 0 {
					t.Fatalf("answered before hi: %s", names(got))
				}
			}
			clk.add(time.Second)
			in, err := s.Decode(websocket.MessageText, mpptest.Frame(mpptest.Hi{Code: nil}))
			if err != nil || !in.Hello {
				t.Fatalf("hi: %+v %v", in, err)
			}
			if !welcomeFirst {
				if got := w.take(t); len(got) != 0 {
					t.Fatalf("answered before the welcome: %s", names(got))
				}
				s.Deliver(welcome(cat, "guest-token"), nil)
			}
			var hi mpptest.Hello
			w.only(t, "hi", &hi)
			if hi.U.UserID != cat.GetId() || hi.U.Name != "Cat" || hi.U.Color != "#e51c8d" || hi.U.Tag == nil {
				t.Fatalf("u = %+v", hi.U)
			}
			if hi.T != t0.Add(time.Second).UnixMilli() || hi.Motd != "be nice" || hi.Token != "guest-token" {
				t.Fatalf("hi = %+v", hi)
			}
		})
	}
}

// The answer to ch: the channel, everyone in it, who the client is, the
// chat history and the welcome message.
func TestJoinAnswer(t *testing.T) {
	s, w, _ := newSession(t, bob)
	r := room(mpp.RoomID("✧ Dev Room ✧"), ann.GetId())
	r.Settings.Name = proto.String("✧ Dev Room ✧")
	r.Settings.MaxPlayers = proto.Int32(20)
	var history []*pb.ChatMessage
	for i := range 40 {
		history = append(history, &pb.ChatMessage{Id: fmt.Sprint(i), RoomId: r.GetId(), UserId: ann.GetId(), DisplayName: "Ann",
			Color: "#ff8ff9", Text: fmt.Sprint("line ", i), SentAt: timestamppb.New(t0.Add(time.Duration(i) * time.Second))})
	}
	m := joinedMsg(r, ann, bob)
	m.GetRoomJoined().ChatHistory = history
	m.GetRoomJoined().WelcomeMessage = "Welcome, Bob!"
	s.Deliver(m, nil)

	got := w.take(t)
	if len(got) != 3 || got[0].M != "ch" || got[1].M != "c" || got[2].M != "notification" {
		t.Fatalf("want ch, c, notification; got %s", names(got))
	}
	var ch mpptest.ChannelState
	if err := got[0].Decode(&ch); err != nil {
		t.Fatal(err)
	}
	if ch.P != bob.GetId() || ch.Ch.Name != "✧ Dev Room ✧" || ch.Ch.ID != "✧ Dev Room ✧" || ch.Ch.Count != 2 {
		t.Fatalf("ch = %+v", ch)
	}
	if len(ch.Ppl) != 2 || ch.Ppl[0].ID != ann.GetId() || ch.Ppl[1].ID != bob.GetId() || ch.Ppl[0].X == nil || *ch.Ppl[0].X != 200 {
		t.Fatalf("ppl = %+v", ch.Ppl)
	}
	if c := ch.Ch.Crown; c == nil || c.ParticipantID != ann.GetId() || c.UserID != ann.GetId() {
		t.Fatalf("the owner holds the crown: %+v", ch.Ch.Crown)
	}
	if st := ch.Ch.Settings; st == nil || !*st.Visible || !*st.Chat || *st.Crownsolo || st.Limit.String() != "20" || st.Color == "" {
		t.Fatalf("settings = %+v", ch.Ch.Settings)
	}
	var c mpptest.History
	if err := got[1].Decode(&c); err != nil {
		t.Fatal(err)
	}
	if len(c.C) != 32 || c.C[0].A != "line 8" || c.C[31].A != "line 39" || c.C[31].M != "a" || c.C[31].P.ID != ann.GetId() {
		t.Fatalf("history: the last 32 messages, oldest first, each a full a; got %d from %+v", len(c.C), c.C[0])
	}
	var n mpptest.Notification
	if err := got[2].Decode(&n); err != nil || n.Text != "Welcome, Bob!" {
		t.Fatalf("welcome %+v %v", n, err)
	}
}

// After arrivals, departures and cursor moves, a channel change (ch) lists
// exactly who is there, with the cursors known so far: MPP clients replace
// their participant table with it.
func TestChannelChangeListsWhoIsThere(t *testing.T) {
	r := room("jam", ann.GetId())
	s, w, _ := inRoom(t, ann, r, ann, bob)
	deliver(t, s, &pb.ServerMessage{Payload: &pb.ServerMessage_UserJoined{UserJoined: &pb.UserJoined{RoomId: "jam", Member: member(cat)}}})
	w.only(t, "p", nil)
	deliver(t, s, &pb.ServerMessage{Payload: &pb.ServerMessage_Cursor{Cursor: &pb.Cursor{UserId: cat.GetId(), X: 12.5, Y: 40}}})
	w.only(t, "m", nil)
	deliver(t, s, &pb.ServerMessage{Payload: &pb.ServerMessage_UserLeft{UserLeft: &pb.UserLeft{RoomId: "jam", UserId: bob.GetId(), Reason: "left"}}})
	w.only(t, "bye", nil)
	renamed := proto.CloneOf(cat)
	renamed.DisplayName = "Kat"
	deliver(t, s, &pb.ServerMessage{Payload: &pb.ServerMessage_MemberUpdated{MemberUpdated: &pb.MemberUpdated{RoomId: "jam", User: renamed}}})
	w.only(t, "p", nil)

	upd := proto.CloneOf(r)
	upd.Settings.OnlyOwnerCanPlay = proto.Bool(true)
	upd.Settings.Color = proto.String("#123456")
	deliver(t, s, &pb.ServerMessage{Payload: &pb.ServerMessage_RoomUpdated{RoomUpdated: &pb.RoomUpdated{Room: upd}}})
	var ch mpptest.ChannelState
	w.only(t, "ch", &ch)
	if ch.P != "" {
		t.Fatalf("a channel change is not a join: p = %q", ch.P)
	}
	if len(ch.Ppl) != 2 || ch.Ppl[0].ID != ann.GetId() || ch.Ppl[1].ID != cat.GetId() || ch.Ppl[1].Name != "Kat" || ch.Ch.Count != 2 {
		t.Fatalf("ppl = %+v", ch.Ppl)
	}
	if ch.Ppl[0].X != nil || ch.Ppl[1].X == nil || *ch.Ppl[1].X != 12.5 || *ch.Ppl[1].Y != 40 {
		t.Fatalf("cursors: unknown ones left out (the client keeps its own), known ones sent: %+v", ch.Ppl)
	}
	if !*ch.Ch.Settings.Crownsolo || ch.Ch.Settings.Color != "#123456" {
		t.Fatalf("settings %+v", ch.Ch.Settings)
	}
}

// The crown follows our owner seat: it drops when the owner leaves (our
// 15 s seat hold is MPP's 15 s countdown from the crown's time), comes back
// with them, falls free, and moves on a transfer.
func TestCrown(t *testing.T) {
	r := room("jam", ann.GetId())
	s, w, clk := inRoom(t, bob, r, ann, bob)
	deliver(t, s, &pb.ServerMessage{Payload: &pb.ServerMessage_Cursor{Cursor: &pb.Cursor{UserId: ann.GetId(), X: 30, Y: 60}}})
	w.take(t)

	clk.add(3 * time.Second)
	deliver(t, s, &pb.ServerMessage{Payload: &pb.ServerMessage_UserLeft{UserLeft: &pb.UserLeft{RoomId: "jam", UserId: ann.GetId(), Reason: "disconnected"}}})
	got := w.take(t)
	if len(got) != 2 || got[0].M != "bye" || got[1].M != "ch" {
		t.Fatalf("owner left: want bye, ch; got %s", names(got))
	}
	var ch mpptest.ChannelState
	got[1].Decode(&ch)
	c := ch.Ch.Crown
	if c == nil || c.ParticipantID != "" || c.UserID != ann.GetId() || c.Time != clk.Now().UnixMilli() {
		t.Fatalf("dropped crown %+v", c)
	}
	if c.StartPos == nil || c.StartPos.X != 30 || c.StartPos.Y != 60 || c.EndPos == nil || c.EndPos.Y < c.StartPos.Y {
		t.Fatalf("the crown falls from the owner's cursor: %+v %+v", c.StartPos, c.EndPos)
	}

	// Back within the hold: the crown is theirs again.
	deliver(t, s, &pb.ServerMessage{Payload: &pb.ServerMessage_UserJoined{UserJoined: &pb.UserJoined{RoomId: "jam", Member: member(ann)}}})
	got = w.take(t)
	if len(got) != 2 || got[0].M != "p" || got[1].M != "ch" {
		t.Fatalf("owner back: want p, ch; got %s", names(got))
	}
	ch = mpptest.ChannelState{}
	got[1].Decode(&ch)
	if ch.Ch.Crown == nil || ch.Ch.Crown.ParticipantID != ann.GetId() {
		t.Fatalf("crown back %+v", ch.Ch.Crown)
	}

	// The seat fell free: a crown anyone may take at once.
	deliver(t, s, &pb.ServerMessage{Payload: &pb.ServerMessage_OwnerChanged{OwnerChanged: &pb.OwnerChanged{RoomId: "jam", PreviousOwnerId: ann.GetId()}}})
	ch = mpptest.ChannelState{}
	w.only(t, "ch", &ch)
	if c := ch.Ch.Crown; c == nil || c.ParticipantID != "" || c.UserID != ann.GetId() || c.Time != 0 {
		t.Fatalf("free crown %+v", c)
	}

	// Bob claimed it.
	deliver(t, s, &pb.ServerMessage{Payload: &pb.ServerMessage_OwnerChanged{OwnerChanged: &pb.OwnerChanged{RoomId: "jam", OwnerId: bob.GetId()}}})
	ch = mpptest.ChannelState{}
	w.only(t, "ch", &ch)
	if c := ch.Ch.Crown; c == nil || c.ParticipantID != bob.GetId() || c.UserID != bob.GetId() {
		t.Fatalf("bob's crown %+v", c)
	}
}

func TestLobbyHasNoCrown(t *testing.T) {
	r := &pb.Room{Id: "lobby", Lobby: true, Settings: &pb.RoomSettings{Public: proto.Bool(true)}}
	s, w, _ := newSession(t, ann)
	s.Deliver(joinedMsg(r, ann, bob), nil)
	var ch mpptest.ChannelState
	w.take(t)[0].Decode(&ch)
	if ch.Ch.Crown != nil || !ch.Ch.Settings.Lobby || ch.Ch.Name != "lobby" {
		t.Fatalf("lobby %+v", ch.Ch)
	}
	deliver(t, s, &pb.ServerMessage{Payload: &pb.ServerMessage_UserLeft{UserLeft: &pb.UserLeft{RoomId: "lobby", UserId: bob.GetId()}}})
	w.only(t, "bye", nil)
}

func TestKick(t *testing.T) {
	r := room("jam", ann.GetId())
	t.Run("the others are told", func(t *testing.T) {
		s, w, _ := inRoom(t, cat, r, ann, bob, cat)
		deliver(t, s, &pb.ServerMessage{Payload: &pb.ServerMessage_Kicked{Kicked: &pb.Kicked{
			RoomId: "jam", UserId: bob.GetId(), ByUserId: ann.GetId(), BanSeconds: 300}}})
		var n mpptest.Notification
		w.only(t, "notification", &n)
		if n.Text != "Ann banned Bob from the channel for 5 minutes." {
			t.Fatalf("notification %q", n.Text)
		}
		deliver(t, s, &pb.ServerMessage{Payload: &pb.ServerMessage_Kicked{Kicked: &pb.Kicked{
			RoomId: "jam", UserId: bob.GetId(), ByUserId: "staff"}}})
		w.only(t, "notification", &n)
		if n.Text != "A moderator kicked Bob." {
			t.Fatalf("notification %q", n.Text)
		}
	})
	t.Run("the kicked one leaves the channel", func(t *testing.T) {
		s, w, _ := inRoom(t, bob, r, ann, bob)
		deliver(t, s, &pb.ServerMessage{Payload: &pb.ServerMessage_Kicked{Kicked: &pb.Kicked{
			RoomId: "jam", UserId: bob.GetId(), ByUserId: ann.GetId(), BanSeconds: 30}}})
		var n mpptest.Notification
		w.only(t, "notification", &n)
		if n.Title != "Kicked" || n.Text != `You were banned from "jam" for 30 seconds.` {
			t.Fatalf("notification %+v", n)
		}
		// What the room still sends is not for this client any more.
		deliver(t, s, &pb.ServerMessage{Payload: &pb.ServerMessage_UserLeft{UserLeft: &pb.UserLeft{RoomId: "jam", UserId: bob.GetId(), Reason: "kicked"}}})
		deliver(t, s, &pb.ServerMessage{Payload: &pb.ServerMessage_Chat{Chat: &pb.ChatPosted{Message: &pb.ChatMessage{RoomId: "jam", Text: "bye bob"}}}})
		if got := w.take(t); len(got) != 0 {
			t.Fatalf("after the kick: %s", names(got))
		}
	})
}

// Late frames of a room just left are dropped; the new room's are not.
func TestOtherRoomsFramesDropped(t *testing.T) {
	s, w, _ := inRoom(t, ann, room("old", ann.GetId()), ann)
	s.Deliver(joinedMsg(room("new", bob.GetId()), bob, ann), nil)
	w.take(t)
	for _, m := range []*pb.ServerMessage{
		{Payload: &pb.ServerMessage_UserJoined{UserJoined: &pb.UserJoined{RoomId: "old", Member: member(cat)}}},
		{Payload: &pb.ServerMessage_UserLeft{UserLeft: &pb.UserLeft{RoomId: "old", UserId: bob.GetId()}}},
		{Payload: &pb.ServerMessage_MemberUpdated{MemberUpdated: &pb.MemberUpdated{RoomId: "old", User: bob}}},
		{Payload: &pb.ServerMessage_Chat{Chat: &pb.ChatPosted{Message: &pb.ChatMessage{RoomId: "old", Text: "x"}}}},
		{Payload: &pb.ServerMessage_RoomUpdated{RoomUpdated: &pb.RoomUpdated{Room: room("old", "")}}},
		{Payload: &pb.ServerMessage_OwnerChanged{OwnerChanged: &pb.OwnerChanged{RoomId: "old"}}},
		{Payload: &pb.ServerMessage_Kicked{Kicked: &pb.Kicked{RoomId: "old", UserId: ann.GetId()}}},
	} {
		deliver(t, s, m)
	}
	if got := w.take(t); len(got) != 0 {
		t.Fatalf("old room's frames reached the client: %s", names(got))
	}
	deliver(t, s, &pb.ServerMessage{Payload: &pb.ServerMessage_UserJoined{UserJoined: &pb.UserJoined{RoomId: "new", Member: member(cat)}}})
	w.only(t, "p", nil)
	// Bob still holds the new room's crown: the old room's kick of Ann
	// did not throw her out of it either.
	deliver(t, s, &pb.ServerMessage{Payload: &pb.ServerMessage_RoomUpdated{RoomUpdated: &pb.RoomUpdated{Room: room("new", bob.GetId())}}})
	var ch mpptest.ChannelState
	w.only(t, "ch", &ch)
	if len(ch.Ppl) != 3 || ch.Ch.Crown.ParticipantID != bob.GetId() {
		t.Fatalf("new room %+v", ch)
	}
}

func TestSeatMovedElsewhere(t *testing.T) {
	s, w, _ := inRoom(t, ann, room("jam", ann.GetId()), ann, bob)
	s.Deliver(&pb.ServerMessage{Payload: &pb.ServerMessage_UserLeft{UserLeft: &pb.UserLeft{RoomId: "jam", UserId: ann.GetId(), Reason: "moved"}}}, nil)
	got := w.take(t)
	if len(got) != 2 || got[0].M != "bye" || got[1].M != "notification" {
		t.Fatalf("got %s", names(got))
	}
	deliver(t, s, &pb.ServerMessage{Payload: &pb.ServerMessage_UserJoined{UserJoined: &pb.UserJoined{RoomId: "jam", Member: member(cat)}}})
	if got := w.take(t); len(got) != 0 {
		t.Fatalf("the room's frames after the move: %s", names(got))
	}
}

// Deliveries from the fan-out, direct replies and the reader all at once:
// every frame the client gets is whole and readable (run with -race).
func TestSessionConcurrent(t *testing.T) {
	r := room("jam", ann.GetId())
	s, w, _ := inRoom(t, ann, r, ann, bob)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				u := &pb.User{Id: fmt.Sprintf("u-%d-%d", g, i%5), DisplayName: "x"}
				switch i % 5 {
				case 0:
					deliver(t, s, &pb.ServerMessage{Payload: &pb.ServerMessage_UserJoined{UserJoined: &pb.UserJoined{RoomId: "jam", Member: member(u)}}})
				case 1:
					deliver(t, s, &pb.ServerMessage{Payload: &pb.ServerMessage_Cursor{Cursor: &pb.Cursor{UserId: u.GetId(), X: float64(i)}}})
				case 2:
					deliver(t, s, &pb.ServerMessage{Payload: &pb.ServerMessage_RoomUpdated{RoomUpdated: &pb.RoomUpdated{Room: r}}})
				case 3:
					deliver(t, s, &pb.ServerMessage{Payload: &pb.ServerMessage_UserLeft{UserLeft: &pb.UserLeft{RoomId: "jam", UserId: u.GetId()}}})
				case 4:
					s.Decode(websocket.MessageText, mpptest.Frame(mpptest.Move{X: i, Y: g}, mpptest.Say{Message: "hi"}))
				}
			}
		})
	}
	wg.Wait()
	if got := w.take(t); len(got) == 0 {
		t.Fatal("nothing delivered")
	}
}
