package fanout

import (
	"slices"
	"sync"
	"testing"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
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

func (f *fakeMember) ConnID() string       { return f.id }
func (f *fakeMember) Format() codec.Format { return f.format }
func (f *fakeMember) Send(b []byte) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.frames = append(f.frames, b)
	return true
}
func (f *fakeMember) Event(ev any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, ev)
}
func (f *fakeMember) got() (int, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.frames), len(f.events)
}

func notesFrame() *codec.Frame {
	return codec.NewFrame(&pb.ServerMessage{Payload: &pb.ServerMessage_Notes{Notes: &pb.NoteBatch{UserId: "a"}}})
}

func TestDeliver(t *testing.T) {
	h := NewHub(0)
	a := &fakeMember{id: "a"}
	b := &fakeMember{id: "b", format: codec.JSON}
	c := &fakeMember{id: "c"}
	other := &fakeMember{id: "o"}
	h.Join("r1", a)
	h.Join("r1", b)
	h.Join("r1", c)
	h.Join("r2", other)

	fr := notesFrame()
	if !h.Deliver("r1", fr, "a", nil) {
		t.Fatal("room r1 not found")
	}
	h.Deliver("r1", nil, "", "kicked")
	h.Leave("r1", "c")
	h.Deliver("r1", fr, "", nil)
	if h.Deliver("r3", fr, "", nil) {
		t.Fatal("delivered to a room with no local member")
	}
	h.Close()

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

func TestRoomActorStopsWithLastMember(t *testing.T) {
	h := NewHub(0)
	defer h.Close()
	h.Join("r", &fakeMember{id: "a"})
	h.Join("r", &fakeMember{id: "b"})
	h.Leave("r", "a")
	if !slices.Equal(h.Rooms(), []string{"r"}) {
		t.Fatalf("rooms %v", h.Rooms())
	}
	h.Leave("r", "b")
	if len(h.Rooms()) != 0 {
		t.Fatalf("rooms %v after last leave", h.Rooms())
	}
	h.Leave("r", "b") // unknown: no effect
}

func TestConcurrentJoinLeaveDeliver(t *testing.T) {
	h := NewHub(4)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			m := &fakeMember{id: string(rune('a' + i))}
			for range 200 {
				h.Join("r", m)
				h.Deliver("r", notesFrame(), "", nil)
				h.Leave("r", m.id)
			}
		})
	}
	wg.Wait()
	h.Close()
}
