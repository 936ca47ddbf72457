package fanout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pianorhythm/server/pkg/actor"
)

// Config configures a Hub.
type Config struct {
	// MailboxSize bounds each lane of a RoomFanout's mailbox; zero value
	// means 1024.
	MailboxSize int
	// MaxRestarts RoomFanout restarts Within a period are tolerated before
	// the supervisor escalates; zero values mean 20 within 10s.
	MaxRestarts int
	Within      time.Duration
	// Logger reports membership changes that could not be queued; nil
	// means discard.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.MailboxSize <= 0 {
		c.MailboxSize = 1024
	}
	if c.MaxRestarts <= 0 {
		c.MaxRestarts = 20
	}
	if c.Within <= 0 {
		c.Within = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Hub is the directory of the RoomFanout actors of one instance, under one
// supervisor ("room-fanouts", one-for-one). Who is a member of a room is
// known to the room's actor only; the Hub counts the members its callers
// have joined (joins minus leaves) to know when to stop it. It is safe for
// concurrent use; Close stops every actor and waits for them.
//
// Callers keep their own memberships: Join or JoinPending a room the
// connection is not a member of, Activate a pending membership, Leave one
// it has, each once. Calls for one member must come from one goroutine (its
// connection's actor, or its teardown once that actor has stopped): each
// is a message, and messages from one sender arrive in order.
type Hub struct {
	cfg Config
	sup *actor.Supervisor

	mu     sync.RWMutex
	rooms  map[string]*entry
	closed bool
}

// entry is the Hub's record of a local room: its actor, how many members
// the callers have joined there, and the room's state, which lives outside
// the actor instance so that a restarted instance (after a panic) still has
// its members. Only the actor touches state.
type entry struct {
	id      string
	ref     *actor.Ref
	members int // guarded by Hub.mu
	// desync is set when a state event could not be queued; the actor
	// clears it and tells every member (Resync).
	desync atomic.Bool
	state  roomState
}

// NewHub starts the hub's supervisor in sys.
func NewHub(sys *actor.System, cfg Config) (*Hub, error) {
	cfg = cfg.withDefaults()
	sup, err := sys.SpawnSupervisor(actor.SupervisorProps{
		Name: "room-fanouts", Strategy: actor.OneForOne, MaxRestarts: cfg.MaxRestarts, Within: cfg.Within,
	})
	if err != nil {
		return nil, fmt.Errorf("start room-fanout supervisor: %w", err)
	}
	return &Hub{cfg: cfg, sup: sup, rooms: make(map[string]*entry)}, nil
}

// Join adds m to the local room roomID, starting its RoomFanout if needed.
func (h *Hub) Join(roomID string, m Member) { h.join(roomID, m, false) }

// JoinPending adds m to roomID before its join is confirmed: frames for it
// are held until Activate (or dropped by Leave). Subscribing first closes
// the gap between the room service's reply and the local subscription.
func (h *Hub) JoinPending(roomID string, m Member) { h.join(roomID, m, true) }

func (h *Hub) join(roomID string, m Member, pending bool) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	e := h.rooms[roomID]
	if e == nil {
		e = &entry{id: roomID}
		ref, err := h.sup.Spawn(actor.Props{
			Kind: "room-fanout", Name: "room-fanout:" + roomID,
			New:         func() actor.Actor { return &roomActor{e: e} },
			MailboxSize: h.cfg.MailboxSize, Overflow: actor.FailFast, PriorityLane: true,
			// A delivery that panicked is not retried: members before the
			// failing one would hear it twice.
			MaxRetries: -1,
		})
		if err != nil { // the supervisor is stopping
			h.mu.Unlock()
			return
		}
		e.ref = ref
		h.rooms[roomID] = e
	}
	e.members++
	h.mu.Unlock()
	h.control(roomID, e.ref, join{member: m, pending: pending})
}

// Activate confirms a pending membership: what was held for it is pushed,
// in order, and later deliveries go straight through.
func (h *Hub) Activate(roomID, connID string) {
	if e := h.entry(roomID); e != nil {
		h.control(roomID, e.ref, activate{connID: connID})
	}
}

// Leave removes the connection from the local room; the room's actor stops
// with its last member.
func (h *Hub) Leave(roomID, connID string) {
	h.mu.Lock()
	e := h.rooms[roomID]
	if e == nil {
		h.mu.Unlock()
		return
	}
	e.members--
	last := e.members <= 0
	if last {
		delete(h.rooms, roomID)
	}
	h.mu.Unlock()
	h.control(roomID, e.ref, leave{connID: connID, last: last})
}

// controlWait bounds how long a membership change waits for room on a
// room's priority lane. The lane holds only membership changes and state
// events, drained in microseconds each, so waiting there at all means the
// actor is stuck.
const controlWait = time.Second

// control queues a membership change on the priority lane; it must not be
// lost, so it waits (briefly, see controlWait) when the lane is full.
func (h *Hub) control(roomID string, ref *actor.Ref, msg any) {
	deadline := time.Now().Add(controlWait)
	for {
		err := ref.TellPriority(context.Background(), msg)
		if err == nil || errors.Is(err, actor.ErrStopped) {
			return // stopped: the room (or the hub) is gone
		}
		if time.Now().After(deadline) {
			h.cfg.Logger.Error("room fan-out: membership change lost", "room", roomID, "err", err)
			return
		}
		time.Sleep(time.Millisecond)
	}
}

func (h *Hub) entry(roomID string) *entry {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.rooms[roomID]
}

// Deliver hands d to every local member of roomID and never waits: it is
// called by note senders and by the Redis dispatcher of every room. See the
// package doc for what a full fan-out does with d.
func (h *Hub) Deliver(roomID string, d *Delivery) Result {
	e := h.entry(roomID)
	if e == nil {
		return NoRoom
	}
	var err error
	if d.Lossy {
		err = e.ref.Tell(context.Background(), d)
	} else {
		err = e.ref.TellPriority(context.Background(), d)
	}
	switch {
	case err == nil:
		return Delivered
	case errors.Is(err, actor.ErrMailboxFull):
		if !d.Lossy {
			e.desync.Store(true)
		}
		return Dropped
	}
	return NoRoom // stopped with its last member meanwhile
}

// Rooms returns the ids of the rooms with local members.
func (h *Hub) Rooms() []string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	ids := make([]string, 0, len(h.rooms))
	for id := range h.rooms {
		ids = append(ids, id)
	}
	return ids
}

// Close stops every RoomFanout (what they still hold is dropped: Close
// comes after the connections are gone) and waits until ctx ends. Later
// calls do nothing but wait.
func (h *Hub) Close(ctx context.Context) error {
	h.mu.Lock()
	h.closed = true
	h.rooms = make(map[string]*entry)
	h.mu.Unlock()
	if err := h.sup.Stop(ctx); err != nil {
		return fmt.Errorf("stop room fan-outs: %w", err)
	}
	return nil
}
