package fanout

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/services/connection/internal/codec"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type fakeMember struct {
	id     string
	format codec.Format
	mu     sync.Mutex
	frames [][]byte
	events []any
}

func (f *fakeMember) ConnID() string { return f.id }

// Send encodes as a connection does: the frame's bytes in its format.
func (f *fakeMember) Send(fr *codec.Frame) bool {
	b, err := fr.Bytes(f.format)
	if err != nil {
		return false
	}
	return f.push(b)
}

func (f *fakeMember) push(b []byte) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.frames = append(f.frames, b)
	return true
}
func (f *fakeMember) Event(ev any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p, ok := ev.(func()); ok {
		p()
		return
	}
	f.events = append(f.events, ev)
}
func (f *fakeMember) got() (int, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.frames), len(f.events)
}

func notesFrame(user string) *codec.Frame {
	return codec.NewFrame(&pb.ServerMessage{Payload: &pb.ServerMessage_Notes{Notes: &pb.NoteBatch{UserId: user}}})
}

func newHub(t *testing.T, cfg Config) (*Hub, *actor.System) {
	t.Helper()
	sys := actor.NewSystem(actor.Config{})
	h, err := NewHub(sys, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		h.Close(ctx)
		if err := sys.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	return h, sys
}

// flush waits until roomID's actor has handled everything sent before.
func flush(t *testing.T, h *Hub, roomID string) {
	t.Helper()
	done := make(chan struct{})
	var once sync.Once
	// On the user lane, behind every note delivered before; a full lane
	// is retried.
	probe := &Delivery{Skip: "-", Lossy: true, Event: func() { once.Do(func() { close(done) }) }}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		r := h.Deliver(roomID, probe)
		if r == NoRoom {
			return
		}
		if r == Delivered {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("room's mailbox stayed full")
		}
	}
	// The probe event runs in each member's Event; rooms in these tests
	// always have one.
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("room actor did not drain")
	}
}

func TestDeliver(t *testing.T) {
	h, _ := newHub(t, Config{})
	a := &fakeMember{id: "a"}
	b := &fakeMember{id: "b", format: codec.JSON}
	c := &fakeMember{id: "c"}
	other := &fakeMember{id: "o"}
	h.Join("r1", a)
	h.Join("r1", b)
	h.Join("r1", c)
	h.Join("r2", other)

	fr := notesFrame("a")
	if r := h.Deliver("r1", &Delivery{Frame: fr, Skip: "a", Lossy: true}); r != Delivered {
		t.Fatalf("deliver to r1: %v", r)
	}
	h.Deliver("r1", &Delivery{Event: "kicked"})
	flush(t, h, "r1")
	h.Leave("r1", "c")
	h.Deliver("r1", &Delivery{Frame: fr, Lossy: true})
	if r := h.Deliver("r3", &Delivery{Frame: fr}); r != NoRoom {
		t.Fatalf("deliver to a room with no local member: %v", r)
	}
	flush(t, h, "r1")

	tests := []struct {
		m              *fakeMember
		frames, events int
	}{
		{a, 1, 1}, {b, 2, 1}, {c, 1, 1}, {other, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.m.id, func(t *testing.T) {
			if f, e := tt.m.got(); f != tt.frames || e != tt.events {
				t.Fatalf("got %d frames %d events, want %d %d", f, e, tt.frames, tt.events)
			}
		})
	}
	pj, _ := fr.Bytes(codec.JSON)
	pp, _ := fr.Bytes(codec.Proto)
	if &b.frames[0][0] != &pj[0] || &a.frames[0][0] != &pp[0] {
		t.Fatal("frames not shared per format")
	}
}

// TestPendingMemberMissesNothing: frames delivered between JoinPending
// and Activate reach the member, in order, after Activate; a pending
// member that leaves gets none.
func TestPendingMemberMissesNothing(t *testing.T) {
	h, _ := newHub(t, Config{})
	host := &fakeMember{id: "host"}
	h.Join("r", host)
	joiner := &fakeMember{id: "j"}
	quitter := &fakeMember{id: "q"}
	h.JoinPending("r", joiner)
	h.JoinPending("r", quitter)
	f1, f2, f3 := notesFrame("1"), notesFrame("2"), notesFrame("3")
	h.Deliver("r", &Delivery{Frame: f1, Lossy: true})
	h.Deliver("r", &Delivery{Frame: f2, Lossy: true})
	flush(t, h, "r")
	if n, _ := joiner.got(); n != 0 {
		t.Fatalf("pending member got %d frames before Activate", n)
	}
	joiner.push([]byte("welcome")) // what the connection sends itself, before Activate
	h.Activate("r", "j")
	h.Leave("r", "q")
	h.Deliver("r", &Delivery{Frame: f3, Lossy: true})
	flush(t, h, "r")
	var want [][]byte
	for _, f := range []*codec.Frame{f1, f2, f3} {
		b, _ := f.Bytes(codec.Proto)
		want = append(want, b)
	}
	want = append([][]byte{[]byte("welcome")}, want...)
	joiner.mu.Lock()
	got := joiner.frames
	joiner.mu.Unlock()
	if !slices.EqualFunc(got, want, func(a, b []byte) bool { return string(a) == string(b) }) {
		t.Fatalf("joiner got %q, want %q", got, want)
	}
	if n, _ := quitter.got(); n != 0 {
		t.Fatalf("pending member that left got %d frames", n)
	}
}

func TestRoomActorStopsWithLastMember(t *testing.T) {
	h, _ := newHub(t, Config{})
	h.Join("r", &fakeMember{id: "a"})
	h.Join("r", &fakeMember{id: "b"})
	h.Leave("r", "a")
	if !slices.Equal(h.Rooms(), []string{"r"}) {
		t.Fatalf("rooms %v", h.Rooms())
	}
	h.mu.RLock()
	ref := h.rooms["r"].ref
	h.mu.RUnlock()
	h.Leave("r", "b")
	if len(h.Rooms()) != 0 {
		t.Fatalf("rooms %v after last leave", h.Rooms())
	}
	select {
	case <-ref.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("RoomFanout still running after its last member left")
	}
}

// panicMember panics in Send once, to crash its RoomFanout.
type panicMember struct {
	fakeMember
	once sync.Once
}

func (p *panicMember) Send(fr *codec.Frame) bool {
	p.once.Do(func() { panic("boom") })
	return p.fakeMember.Send(fr)
}

func TestRestartedRoomReloadsMembers(t *testing.T) {
	h, _ := newHub(t, Config{})
	a := &fakeMember{id: "a"}
	bad := &panicMember{fakeMember: fakeMember{id: "bad"}}
	h.Join("r", a)
	h.Join("r", bad)
	h.Deliver("r", &Delivery{Frame: notesFrame("x")}) // crashes; not retried
	h.Deliver("r", &Delivery{Frame: notesFrame("y")})
	flush(t, h, "r")
	if n, _ := a.got(); n != 2 {
		t.Fatalf("a got %d frames, want 2 (one before the crash, one after the restart)", n)
	}
	if n, _ := bad.got(); n != 1 {
		t.Fatalf("bad got %d frames after the restart, want 1", n)
	}
}

func TestConcurrentJoinLeaveDeliver(t *testing.T) {
	h, _ := newHub(t, Config{MailboxSize: 4})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			m := &fakeMember{id: string(rune('a' + i))}
			for range 200 {
				h.Join("r", m)
				h.Deliver("r", &Delivery{Frame: notesFrame("x"), Lossy: true})
				h.Deliver("r", &Delivery{Event: "ev"})
				h.Leave("r", m.id)
			}
		})
	}
	wg.Wait()
}

// stuckMember blocks its room's actor in Send until release is closed,
// like a RoomFanout starved of CPU.
type stuckMember struct {
	fakeMember
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func (s *stuckMember) Send(fr *codec.Frame) bool {
	s.once.Do(func() { close(s.entered) })
	<-s.release
	return s.fakeMember.Send(fr)
}

// TestFullRoomDoesNotStallOthers: one room's fan-out stuck and full; the
// caller (the Redis dispatcher, a note sender) is never held, the other
// room keeps receiving, notes for the full room are dropped and counted,
// and a state event that cannot be queued makes every member of the full
// room resync.
func TestFullRoomDoesNotStallOthers(t *testing.T) {
	const lane = 4
	h, _ := newHub(t, Config{MailboxSize: lane})
	stuck := &stuckMember{fakeMember: fakeMember{id: "stuck"}, entered: make(chan struct{}), release: make(chan struct{})}
	var releaseOnce sync.Once
	release := func() { releaseOnce.Do(func() { close(stuck.release) }) }
	t.Cleanup(release) // before the hub's cleanup: it runs first
	bystander := &fakeMember{id: "bystander"}
	h.Join("full", stuck)
	h.Join("full", bystander)
	other := &fakeMember{id: "other"}
	h.Join("fine", other)

	h.Deliver("full", &Delivery{Frame: notesFrame("x"), Lossy: true})
	<-stuck.entered // the actor is inside Send now, its mailbox filling
	dropped := 0
	for range 3 * lane {
		if h.Deliver("full", &Delivery{Frame: notesFrame("x"), Lossy: true}) == Dropped {
			dropped++
		}
	}
	if dropped < 2*lane {
		t.Fatalf("%d of %d notes dropped by a full fan-out with lanes of %d", dropped, 3*lane, lane)
	}
	// The priority lane holds state events until it is full too.
	eventsDropped := 0
	for range 2 * lane {
		if h.Deliver("full", &Delivery{Event: "roomUpdated"}) == Dropped {
			eventsDropped++
		}
	}
	if eventsDropped != lane {
		t.Fatalf("%d state events dropped, want %d (the lane holds %d)", eventsDropped, lane, lane)
	}

	// Meanwhile the other room is served.
	for i := range 10 {
		if r := h.Deliver("fine", &Delivery{Frame: notesFrame("y"), Lossy: true}); r != Delivered {
			t.Fatalf("deliver to the other room: %v", r)
		}
		flush(t, h, "fine")
		if n, _ := other.got(); n != i+1 {
			t.Fatalf("other room got %d of %d frames while a room was full", n, i+1)
		}
	}

	release()
	flush(t, h, "full")
	bystander.mu.Lock()
	defer bystander.mu.Unlock()
	resyncs := 0
	for _, ev := range bystander.events {
		if r, ok := ev.(Resync); ok && r.RoomID == "full" {
			resyncs++
		}
	}
	if resyncs != 1 {
		t.Fatalf("bystander got %d Resync events (events %v), want 1 after a lost state event", resyncs, bystander.events)
	}
}
