package track

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

// Sink receives analytics events without blocking; *Emitter is the one
// that ships.
type Sink interface {
	Emit(ctx context.Context, ev *pb.Event)
}

var _ Sink = (*Emitter)(nil)

// NotesConfig configures Notes.
type NotesConfig struct {
	// Interval is how often each connection's count is emitted (one NOTES
	// event per connection that played in the interval). Zero value means
	// 1s.
	Interval time.Duration
}

// Notes aggregates the notes played on many connections into NOTES events:
// the edge calls NoteCounter.Add for every note batch it accepts (an atomic
// add, nothing else), and one goroutine owned by Notes emits, every
// Interval, one event per connection with the count since the previous
// one. Nothing is emitted per note, and a connection that plays nothing
// costs nothing.
//
// The edge's use, per WebSocket:
//
//	notes := track.NewNotes(emitter, track.NotesConfig{}) // once per edge; Close at shutdown
//	c := notes.Counter(userID, roomID, connID)            // when the connection joins a room
//	c.Add(len(batch.Events))                              // each accepted batch (NOTE_ON events, or all)
//	c.SetRoom(newRoomID)                                  // on a room change: the old room's count goes first
//	c.Close()                                             // when the connection ends: the last count
//
// Its methods and those of NoteCounter are safe for concurrent use.
type Notes struct {
	sink     Sink
	interval time.Duration

	mu       sync.Mutex
	counters map[*NoteCounter]struct{}
	closed   bool

	stop chan struct{}
	done chan struct{}
}

// NewNotes starts a Notes emitting to sink. Close it to stop its goroutine;
// Close does not close the sink.
func NewNotes(sink Sink, cfg NotesConfig) *Notes {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	n := &Notes{
		sink: sink, interval: cfg.Interval,
		counters: map[*NoteCounter]struct{}{},
		stop:     make(chan struct{}), done: make(chan struct{}),
	}
	go n.run()
	return n
}

func (n *Notes) run() {
	defer close(n.done)
	t := time.NewTicker(n.interval)
	defer t.Stop()
	for {
		select {
		case <-n.stop:
			return
		case <-t.C:
			n.Flush()
		}
	}
}

// Counter returns the counter of one connection, in roomID. The caller
// must Close it when the connection ends.
func (n *Notes) Counter(userID, roomID, connectionID string) *NoteCounter {
	c := &NoteCounter{notes: n, user: userID, room: roomID, conn: connectionID}
	n.mu.Lock()
	if !n.closed {
		n.counters[c] = struct{}{}
	}
	n.mu.Unlock()
	return c
}

// Flush emits the pending count of every connection now (the ticker calls
// it every Interval).
func (n *Notes) Flush() {
	n.mu.Lock()
	list := make([]*NoteCounter, 0, len(n.counters))
	for c := range n.counters {
		list = append(list, c)
	}
	n.mu.Unlock()
	for _, c := range list {
		c.flush()
	}
}

// Close stops the goroutine and emits what every connection has pending.
// Counters still in use afterwards emit only from their own SetRoom and
// Close. ctx is not needed to flush (Emit never blocks); it is there for
// symmetry with Emitter.Close, which should be called after this one.
func (n *Notes) Close(context.Context) error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		<-n.done
		return nil
	}
	n.closed = true
	n.mu.Unlock()
	close(n.stop)
	<-n.done
	n.Flush()
	n.mu.Lock()
	clear(n.counters)
	n.mu.Unlock()
	return nil
}

// NoteCounter counts one connection's notes; see Notes.
type NoteCounter struct {
	notes   *Notes
	pending atomic.Int64

	mu     sync.Mutex // guards room and closed, and orders the flushes
	user   string
	room   string
	conn   string
	closed bool
}

// Add counts n notes (n <= 0 is ignored). It is the hot path: one atomic
// add, no allocation, no lock.
func (c *NoteCounter) Add(n int) {
	if n > 0 {
		c.pending.Add(int64(n))
	}
}

// SetRoom moves the connection to roomID; what was played in the previous
// room is emitted first, under that room.
func (c *NoteCounter) SetRoom(roomID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.room == roomID {
		return
	}
	c.emitLocked()
	c.room = roomID
}

// Close emits the last count and forgets the connection. Calling it again
// does nothing; Add after Close is not counted.
func (c *NoteCounter) Close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.emitLocked()
	c.closed = true
	c.mu.Unlock()
	c.notes.mu.Lock()
	delete(c.notes.counters, c)
	c.notes.mu.Unlock()
}

func (c *NoteCounter) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.emitLocked()
	}
}

func (c *NoteCounter) emitLocked() {
	n := c.pending.Swap(0)
	if n == 0 || c.user == "" {
		return
	}
	c.notes.sink.Emit(context.Background(), &pb.Event{
		Type: pb.EventType_EVENT_TYPE_NOTES, UserId: c.user, RoomId: c.room,
		ConnectionId: c.conn, Count: n,
	})
}
