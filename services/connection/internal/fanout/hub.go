package fanout

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/pianorhythm/server/pkg/actor"
)

// Config configures a Hub.
type Config struct {
	// MailboxSize is each RoomFanout's mailbox; zero value means 1024.
	MailboxSize int
	// MaxRestarts RoomFanout restarts Within a period are tolerated before
	// the supervisor escalates; zero values mean 20 within 10s.
	MaxRestarts int
	Within      time.Duration
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
	return c
}

// Hub owns the RoomFanout actors of one instance, under one supervisor
// ("room-fanouts", one-for-one). It is safe for concurrent use; Close stops
// every actor and waits for them.
//
// Calls for one member (Join, Activate, Leave) must come from one goroutine
// (its connection actor): each is a Tell, and Tells from one sender arrive in
// order.
type Hub struct {
	cfg Config
	sup *actor.Supervisor

	mu     sync.RWMutex
	rooms  map[string]*entry
	closed bool
	seq    uint64
}

// entry is the Hub's record of a local room: its actor and the membership
// a restarted actor reloads. members is guarded by Hub.mu.
type entry struct {
	ref     *actor.Ref
	members map[string]*membership
}

type membership struct {
	member  Member
	pending bool
	seq     uint64 // join order, kept by a reloaded actor
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
// Joining a room m is already in does nothing.
func (h *Hub) Join(roomID string, m Member) { h.join(roomID, m, false) }

// JoinPending adds m to roomID before its join is confirmed: frames for it
// are held until Activate (or dropped by Leave). Subscribing first closes
// the gap between the room service's reply and the local subscription.
func (h *Hub) JoinPending(roomID string, m Member) { h.join(roomID, m, true) }

func (h *Hub) join(roomID string, m Member, pending bool) {
	id := m.ConnID()
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	e := h.rooms[roomID]
	if e == nil {
		e = &entry{members: make(map[string]*membership)}
		ref, err := h.sup.Spawn(actor.Props{
			Kind: "room-fanout", Name: "room-fanout:" + roomID,
			New:         func() actor.Actor { return &roomActor{hub: h, e: e} },
			MailboxSize: h.cfg.MailboxSize, Overflow: actor.Block,
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
	if _, ok := e.members[id]; ok {
		h.mu.Unlock()
		return
	}
	h.seq++
	e.members[id] = &membership{member: m, pending: pending, seq: h.seq}
	ref := e.ref
	h.mu.Unlock()
	ref.Tell(context.Background(), join{member: m, pending: pending})
}

// Activate confirms a pending member: what was held for it is pushed, in
// order, and later deliveries go straight through.
func (h *Hub) Activate(roomID, connID string) {
	h.mu.Lock()
	e := h.rooms[roomID]
	if e == nil || e.members[connID] == nil || !e.members[connID].pending {
		h.mu.Unlock()
		return
	}
	e.members[connID].pending = false
	ref := e.ref
	h.mu.Unlock()
	ref.Tell(context.Background(), activate{connID: connID})
}

// Leave removes the connection from the local room; the room's actor stops
// with its last member. Leaving a room one is not in does nothing.
func (h *Hub) Leave(roomID, connID string) {
	h.mu.Lock()
	e := h.rooms[roomID]
	if e == nil || e.members[connID] == nil {
		h.mu.Unlock()
		return
	}
	delete(e.members, connID)
	last := len(e.members) == 0
	if last {
		delete(h.rooms, roomID)
	}
	h.mu.Unlock()
	e.ref.Tell(context.Background(), leave{connID: connID, last: last})
}

// Deliver hands d to every local member of roomID. It reports false when
// no member of the room is here. It waits only while the room's mailbox is
// full.
func (h *Hub) Deliver(roomID string, d *Delivery) bool {
	h.mu.RLock()
	e := h.rooms[roomID]
	h.mu.RUnlock()
	if e == nil {
		return false
	}
	return e.ref.Tell(context.Background(), d) == nil
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

// snapshot is the membership a (re)started RoomFanout begins with.
func (h *Hub) snapshot(e *entry) []membership {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]membership, 0, len(e.members))
	for _, m := range e.members {
		out = append(out, *m)
	}
	slices.SortFunc(out, func(a, b membership) int { return cmp.Compare(a.seq, b.seq) })
	return out
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
