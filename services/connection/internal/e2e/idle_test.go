package e2e

import (
	"runtime"
	"strings"
	"testing"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/connection/connsvc"
	"github.com/pianorhythm/server/services/connection/internal/codec"
)

// goroutinesIn counts the goroutines whose stack has a frame of fn.
func goroutinesIn(fn string) int {
	buf := make([]byte, 1<<24)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, fn) {
			n++
		}
	}
	return n
}

// TestIdleConnectionHoldsOneGoroutine: a connection that has joined a room
// and gone quiet holds one goroutine, its reader: its actor and its
// writer run only while they have work, and the handler's goroutine, whose
// stack grew signing the user in, is not kept. Each goroutine is 8 KiB or
// more of stack per connection, the largest part of what a crowd of idle
// connections costs.
func TestIdleConnectionHoldsOneGoroutine(t *testing.T) {
	const conns = 10
	tests := []struct {
		name string
		// open connects a client into the room (the first creates it)
		// and returns what waits until everything sent to it has arrived.
		open func(t *testing.T, e *edge, first bool) func()
	}{
		{"ws", func(t *testing.T, e *edge, first bool) func() {
			c := e.dial(t, codec.Proto, "")
			c.join("idle", first)
			return func() { c.quietFor(func(*pb.ServerMessage) bool { return false }) }
		}},
		{"mpp", func(t *testing.T, e *edge, first bool) func() {
			m := e.dialMPP(t, "")
			m.join("idle")
			return func() { m.sync(nil) }
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			e := w.edge(connsvc.Config{})
			syncs := []func(){tt.open(t, e, true)}
			syncs[0]()
			// The room's actors exist from here on; the others' joins add
			// none.
			actorsBefore := goroutinesIn("actor.(*Ref).loop(")
			for i := 1; i < conns; i++ {
				syncs = append(syncs, tt.open(t, e, false))
			}
			for _, sync := range syncs {
				sync()
			}
			var perConn, writers, actors int
			for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				perConn = goroutinesIn("internal/edge.(*conn).")
				writers = goroutinesIn("internal/edge.(*conn).writeLoop(")
				actors = goroutinesIn("actor.(*Ref).loop(") - actorsBefore
				if perConn == conns && writers == 0 && actors <= 0 {
					return
				}
			}
			t.Fatalf("%d idle connections hold %d goroutines of theirs (%d writers), %d more actor goroutines than before; want %d, 0, 0",
				conns, perConn, writers, actors, conns)
		})
	}
}
