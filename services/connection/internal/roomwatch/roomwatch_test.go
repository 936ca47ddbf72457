package roomwatch

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/connection/internal/codec"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// rooms is a hand-written room list (pure logic: the e2e tests read the
// real room service), paged by two, counting its reads.
type rooms struct {
	mu    sync.Mutex
	list  []*pb.Room
	err   error
	reads int
}

func (r *rooms) set(list ...*pb.Room) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.list = list
}

func (r *rooms) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.err = err
}

func (r *rooms) read() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reads
}

func (r *rooms) page(_ context.Context, token string) (*pb.ListRoomsResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reads++
	if r.err != nil {
		return nil, r.err
	}
	start := 0
	if token != "" {
		start = int(token[0] - '0')
	}
	end := min(start+2, len(r.list))
	res := &pb.ListRoomsResponse{Rooms: r.list[start:end]}
	if end < len(r.list) {
		res.NextPageToken = string(rune('0' + end))
	}
	return res, nil
}

func room(id string, count int32) *pb.Room { return &pb.Room{Id: id, MemberCount: count} }

// member records what it is sent.
type member struct {
	id   string
	mu   sync.Mutex
	msgs []*pb.ServerMessage
	full bool
	got  chan struct{}
}

func newMember(id string) *member { return &member{id: id, got: make(chan struct{}, 100)} }

func (m *member) ConnID() string { return m.id }

func (m *member) Send(fr *codec.Frame) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.full {
		return false
	}
	m.msgs = append(m.msgs, fr.Message())
	m.got <- struct{}{}
	return true
}

// next waits for the next message.
func (m *member) next(t *testing.T) *pb.ServerMessage {
	t.Helper()
	select {
	case <-m.got:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: no message", m.id)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	msg := m.msgs[0]
	m.msgs = m.msgs[1:]
	return msg
}

// none asserts nothing arrives for a few intervals.
func (m *member) none(t *testing.T, wait time.Duration) {
	t.Helper()
	select {
	case <-m.got:
		m.mu.Lock()
		defer m.mu.Unlock()
		t.Fatalf("%s got %v", m.id, m.msgs)
	case <-time.After(wait):
	}
}

func ids(rs []*pb.Room) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.GetId()
	}
	return out
}

const interval = 20 * time.Millisecond

func TestWatchersGetTheListThenWhatChanged(t *testing.T) {
	src := &rooms{}
	src.set(room("lobby", 3), room("jam", 1), room("solo", 1))
	w := New(Config{Interval: interval}, src.page)
	defer w.Close()

	a := newMember("a")
	if err := w.Watch(context.Background(), a, "req-1"); err != nil {
		t.Fatal(err)
	}
	first := a.next(t)
	if first.GetId() != "req-1" || !slices.Equal(ids(first.GetRoomList().GetRooms()), []string{"lobby", "jam", "solo"}) {
		t.Fatalf("first message %v, want the whole list (every page) echoing the id", first)
	}

	// jam gains a member, solo is gone, club is new: one roomsChanged.
	src.set(room("lobby", 3), room("jam", 2), room("club", 1))
	ch := a.next(t).GetRoomsChanged()
	if !slices.Equal(ids(ch.GetRooms()), []string{"jam", "club"}) || !slices.Equal(ch.GetRemoved(), []string{"solo"}) {
		t.Fatalf("roomsChanged %v", ch)
	}
	a.none(t, 5*interval) // nothing changed since

	// A second watcher gets the list as it is now; both hear the next change.
	b := newMember("b")
	if err := w.Watch(context.Background(), b, "req-2"); err != nil {
		t.Fatal(err)
	}
	if got := ids(b.next(t).GetRoomList().GetRooms()); !slices.Equal(got, []string{"lobby", "jam", "club"}) {
		t.Fatalf("b's list %v", got)
	}
	src.set(room("lobby", 4), room("jam", 2), room("club", 1))
	for _, m := range []*member{a, b} {
		if ch := m.next(t).GetRoomsChanged(); !slices.Equal(ids(ch.GetRooms()), []string{"lobby"}) || len(ch.GetRemoved()) != 0 {
			t.Fatalf("%s: roomsChanged %v", m.id, ch)
		}
	}

	// Unwatched: no more.
	w.Unwatch("a")
	src.set(room("lobby", 5), room("jam", 2), room("club", 1))
	b.next(t)
	a.none(t, 5*interval)
}

func TestNoReadsWhileNobodyWatches(t *testing.T) {
	src := &rooms{}
	src.set(room("lobby", 1))
	w := New(Config{Interval: interval}, src.page)
	defer w.Close()
	time.Sleep(5 * interval)
	if n := src.read(); n != 0 {
		t.Fatalf("%d reads with no watcher", n)
	}
	a := newMember("a")
	if err := w.Watch(context.Background(), a, ""); err != nil {
		t.Fatal(err)
	}
	w.Unwatch("a")
	before := src.read()
	time.Sleep(5 * interval)
	if n := src.read(); n != before {
		t.Fatalf("%d reads after the last watcher left", n-before)
	}
}

func TestAFailingListIsTheWatchersError(t *testing.T) {
	src := &rooms{}
	src.fail(errors.New("room service down"))
	w := New(Config{Interval: interval}, src.page)
	defer w.Close()
	a := newMember("a")
	if err := w.Watch(context.Background(), a, ""); err == nil {
		t.Fatal("watch answered while the list cannot be read")
	}
	if w.Watching() != 0 {
		t.Fatal("a refused watcher watches")
	}
	// Back: the watch works, and a later failure keeps the watcher (it
	// hears again when the list is read again).
	src.fail(nil)
	src.set(room("lobby", 1))
	if err := w.Watch(context.Background(), a, ""); err != nil {
		t.Fatal(err)
	}
	a.next(t)
	src.fail(errors.New("down again"))
	time.Sleep(3 * interval)
	src.fail(nil)
	src.set(room("lobby", 2))
	if ch := a.next(t).GetRoomsChanged(); len(ch.GetRooms()) != 1 {
		t.Fatalf("after the outage: %v", ch)
	}
}

func TestAMemberThatCannotTakeMoreStopsWatching(t *testing.T) {
	src := &rooms{}
	src.set(room("lobby", 1))
	w := New(Config{Interval: interval}, src.page)
	defer w.Close()
	a := newMember("a")
	if err := w.Watch(context.Background(), a, ""); err != nil {
		t.Fatal(err)
	}
	a.next(t)
	a.mu.Lock()
	a.full = true
	a.mu.Unlock()
	src.set(room("lobby", 2))
	deadline := time.Now().Add(5 * time.Second)
	for w.Watching() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("a member whose queue refuses frames still watches")
		}
		time.Sleep(interval)
	}
}

func TestWatchAfterClose(t *testing.T) {
	w := New(Config{}, (&rooms{}).page)
	w.Close()
	w.Close() // twice is fine
	if err := w.Watch(context.Background(), newMember("a"), ""); !errors.Is(err, ErrClosed) {
		t.Fatalf("watch after close: %v", err)
	}
}
