package logsink

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
)

// Sink keeps the most recent WARN and ERROR entries. Its methods are safe
// for concurrent use.
type Sink struct {
	ref     *actor.Ref
	dropped atomic.Int64
}

// Spawn starts the sink's actor in sys, keeping the last size entries
// (zero means 500).
func Spawn(sys *actor.System, size int) (*Sink, error) {
	if size <= 0 {
		size = 500
	}
	r := &ring{buf: make([]*pb.LogEntry, size)}
	ref, err := sys.Spawn(actor.Props{
		Kind: "log-sink", Name: "log-sink",
		New: func() actor.Actor { return &sinkActor{r: r} },
		// Logging must never wait for the monitor: a full mailbox drops the
		// entry (counted) instead of blocking the caller.
		Overflow: actor.FailFast,
	})
	if err != nil {
		return nil, fmt.Errorf("spawn log sink: %w", err)
	}
	return &Sink{ref: ref}, nil
}

// Add queues e without blocking; it is dropped when the sink is busy or
// stopped.
func (s *Sink) Add(e *pb.LogEntry) {
	if err := s.ref.Tell(context.Background(), e); err != nil {
		s.dropped.Add(1)
	}
}

// Dropped is how many entries Add could not queue.
func (s *Sink) Dropped() int64 { return s.dropped.Load() }

// Recent returns up to limit entries, newest first, of level ("WARN",
// "ERROR", case-insensitive; empty means both). A limit <= 0 means all
// that are kept.
func (s *Sink) Recent(ctx context.Context, level string, limit int) ([]*pb.LogEntry, error) {
	es, err := actor.Ask[[]*pb.LogEntry](ctx, s.ref, recentQuery{level: strings.ToUpper(level), limit: limit})
	if err != nil {
		return nil, fmt.Errorf("recent logs: %w", err)
	}
	return es, nil
}

type recentQuery struct {
	level string
	limit int
}

type sinkActor struct{ r *ring }

func (a *sinkActor) Receive(c *actor.Context) {
	switch m := c.Message().(type) {
	case *pb.LogEntry:
		a.r.add(m)
	case recentQuery:
		c.Respond(a.r.recent(m.level, m.limit))
	}
}

// ring is the sink actor's state; it outlives actor restarts.
type ring struct {
	buf  []*pb.LogEntry
	next int
	n    int
}

func (r *ring) add(e *pb.LogEntry) {
	r.buf[r.next] = e
	r.next = (r.next + 1) % len(r.buf)
	r.n = min(r.n+1, len(r.buf))
}

// recent walks from the newest entry back. Entries are never modified once
// added, so handing out the pointers is safe.
func (r *ring) recent(level string, limit int) []*pb.LogEntry {
	if limit <= 0 || limit > r.n {
		limit = r.n
	}
	out := make([]*pb.LogEntry, 0, limit)
	for i := 1; i <= r.n && len(out) < limit; i++ {
		e := r.buf[(r.next-i+len(r.buf))%len(r.buf)]
		if level == "" || e.GetLevel() == level {
			out = append(out, e)
		}
	}
	return out
}
