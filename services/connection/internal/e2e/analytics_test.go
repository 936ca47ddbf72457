package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/track"
	"github.com/pianorhythm/server/services/connection/connsvc"
	"github.com/pianorhythm/server/services/connection/internal/codec"
	"github.com/pianorhythm/server/services/connection/internal/mpp/mpptest"
	"google.golang.org/protobuf/proto"
)

// stream is an analytics stream of the test's own, with its emitter.
type stream struct {
	t    *testing.T
	w    *world
	name string
	em   *track.Emitter
}

func newStream(t *testing.T, w *world) *stream {
	name := w.prefix + "analytics:events"
	return &stream{t: t, w: w, name: name, em: track.NewEmitter(w.rdb, track.Config{Stream: name, Logger: quiet})}
}

// events reads every event of the stream.
func (s *stream) events() []*pb.Event {
	s.t.Helper()
	msgs, err := s.w.rdb.XRange(context.Background(), s.name, "-", "+").Result()
	if err != nil {
		s.t.Fatal(err)
	}
	out := make([]*pb.Event, 0, len(msgs))
	for _, m := range msgs {
		ev := new(pb.Event)
		raw, _ := m.Values[track.FieldEvent].(string)
		if err := proto.Unmarshal([]byte(raw), ev); err != nil {
			s.t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

// TestNotesAndConnectionsReachTheAnalyticsStream: what a player does over
// /ws and /mpp becomes events where it happens: the notes struck, counted
// per connection (one event per second of play, never one per note), and
// the connection's opening and closing (with the seconds connected).
func TestNotesAndConnectionsReachTheAnalyticsStream(t *testing.T) {
	w := newWorld(t)
	st := newStream(t, w)
	e := w.edgeWith(connsvc.Config{}, edgeOpts{events: st.em})
	ws := e.dial(t, codec.JSON, "")
	ws.join("counted", true)
	m := e.dialMPP(t, "")
	m.join("counted")
	wsConn := ws.welcome.GetConnectionId()

	// 3 batches of 4 keys struck and released (releases are not notes),
	// and one refused batch (over 300 events) that counts nothing.
	for range 3 {
		b := notes(4)
		for _, ev := range slices.Clone(b.GetNotes().GetEvents()) {
			b.GetNotes().Events = append(b.GetNotes().Events, &pb.NoteEvent{Kind: pb.NoteKind_NOTE_OFF, Note: ev.GetNote()})
		}
		ws.send(b)
	}
	if r := ws.reply(ws.send(notes(301))); r.GetError() == nil {
		t.Fatalf("301 events: %v", r)
	}
	m.send(mpptest.Notes{T: float64(time.Now().UnixMilli()), N: []mpptest.Note{key("c3", 1), key("d3", 1), mpptest.Stop("c3")}})
	m.sync(nil)
	ws.ws.Close(1000, "done")
	m.send(mpptest.Bye{})
	m.closeCode()
	e.stop() // every counter and the close events are out; then the emitter
	if err := st.em.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	notesBy := map[string]int64{}
	opened, closed := map[string]*pb.Event{}, map[string]*pb.Event{}
	for _, ev := range st.events() {
		switch ev.GetType() {
		case pb.EventType_EVENT_TYPE_NOTES:
			if ev.GetRoomId() != "counted" {
				t.Errorf("notes event in room %q: %v", ev.GetRoomId(), ev)
			}
			notesBy[ev.GetUserId()] += ev.GetCount()
		case pb.EventType_EVENT_TYPE_CONNECTION_OPENED:
			opened[ev.GetConnectionId()] = ev
		case pb.EventType_EVENT_TYPE_CONNECTION_CLOSED:
			closed[ev.GetConnectionId()] = ev
		}
	}
	if notesBy[ws.id()] != 12 || notesBy[m.id()] != 2 {
		t.Fatalf("notes counted %v, want 12 for the /ws player and 2 for the MPP player", notesBy)
	}
	if len(opened) != 2 || len(closed) != 2 || opened[wsConn].GetUserId() != ws.id() || closed[wsConn].GetUserId() != ws.id() {
		t.Fatalf("connection events: opened %v, closed %v", opened, closed)
	}
	for id, ev := range closed {
		if ev.GetCount() < 0 || ev.GetCount() > 60 || ev.GetAttributes()["protocol"] == "" {
			t.Errorf("close of %s: %v", id, ev)
		}
	}
}

// TestAchievementsReachTheirUser: an achievement published on the user's
// channel (by the analytics service) reaches each of the user's
// connections: /ws as achievement, MPP as a notification.
func TestAchievementsReachTheirUser(t *testing.T) {
	w := newWorld(t)
	e := w.edge(connsvc.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	acct, err := pb.NewUserServiceClient(w.user).Register(ctx, &pb.RegisterRequest{Username: "achiever", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	ws := e.dial(t, codec.JSON, acct.GetAccessToken())
	m := e.dialMPP(t, acct.GetAccessToken())
	other := e.dial(t, codec.JSON, "")
	_, err = pb.NewStateServiceClient(w.state).PublishUserEvent(ctx, &pb.UserEvent{UserId: ws.id(), Event: &pb.UserEvent_Achievement{
		Achievement: &pb.AchievementUnlocked{AchievementId: "first_note", Title: "First note", Metric: "notes_played", Threshold: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	got := ws.await("achievement", 5*time.Second, func(m *pb.ServerMessage) bool { return m.GetAchievement() != nil }).GetAchievement()
	if got.GetAchievementId() != "first_note" || got.GetTitle() != "First note" {
		t.Fatalf("achievement %v", got)
	}
	var n mpptest.Notification
	m.until("notification", func(r mpptest.Received) bool { return r.Decode(&n) == nil && strings.Contains(n.Text, "First note") })
	other.quietFor(func(m *pb.ServerMessage) bool { return m.GetAchievement() != nil })
}
