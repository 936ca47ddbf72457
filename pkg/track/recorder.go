package track

import (
	"context"
	"sync"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

// Recorder is a Sink that keeps the events it is given, for tests of the
// code that emits them (the stream itself is the Emitter's).
type Recorder struct {
	mu  sync.Mutex
	evs []*pb.Event
}

var _ Sink = (*Recorder)(nil)

// Emit keeps ev.
func (r *Recorder) Emit(_ context.Context, ev *pb.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, ev)
}

// Take returns the events kept since the last Take and forgets them.
func (r *Recorder) Take() []*pb.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.evs
	r.evs = nil
	return out
}
