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

// TestIdleConnectionHoldsOneGoroutine: a /ws connection in a room that
// has played, chatted and gone quiet holds one goroutine (its handler's,
// which reads): its actor and its writer run only while they have work.
// Each goroutine is 8 KiB or more of stack per connection, the largest
// part of what a crowd of idle connections costs.
func TestIdleConnectionHoldsOneGoroutine(t *testing.T) {
	const conns = 10
	w := newWorld(t)
	e := w.edge(connsvc.Config{})
	clients := make([]*client, conns)
	clients[0] = e.dial(t, codec.Proto, "")
	clients[0].join("idle", true)
	clients[0].quietFor(func(*pb.ServerMessage) bool { return false })
	// The room's actors exist from here on; the others' joins add none.
	actorsBefore := goroutinesIn("actor.(*Ref).loop(")
	for i := 1; i < conns; i++ {
		clients[i] = e.dial(t, codec.Proto, "")
		clients[i].join("idle", false)
	}
	clients[0].send(notes(2))
	for _, c := range clients[1:] {
		c.await("notes", 5*time.Second, isNotes)
	}
	for _, c := range clients {
		c.quietFor(func(*pb.ServerMessage) bool { return false })
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
}
