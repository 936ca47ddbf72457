package fanout

import (
	"sync"

	"github.com/pianorhythm/server/services/connection/internal/codec"
)

// Member is one local recipient: a connection.
type Member interface {
	// ConnID identifies the connection; it must not change.
	ConnID() string
	// Format is the connection's wire format; it must not change.
	Format() codec.Format
	// Send queues an encoded frame without blocking; false means dropped.
	Send(frame []byte) bool
	// Event hands the connection actor an event that changes its state
	// (kicked, owner changed, ...) without blocking.
	Event(ev any)
}

type msgKind uint8

const (
	msgJoin msgKind = iota
	msgLeave
	msgDeliver
)

// msg is passed by value so a delivery allocates nothing for the mailbox.
type msg struct {
	kind   msgKind
	member Member
	connID string // leave: who; deliver: who to skip
	frame  *codec.Frame
	event  any
}

// room is the RoomFanout actor of one local room.
type room struct {
	mailbox chan msg
	members []Member
	count   int // members as the Hub counts them (Hub lock)
}

func (r *room) run() {
	for m := range r.mailbox {
		switch m.kind {
		case msgJoin:
			r.members = append(r.members, m.member)
		case msgLeave:
			for i, mem := range r.members {
				if mem.ConnID() == m.connID {
					r.members = append(r.members[:i], r.members[i+1:]...)
					break
				}
			}
		case msgDeliver:
			r.deliver(m)
		}
	}
}

func (r *room) deliver(m msg) {
	for _, mem := range r.members {
		if m.connID != "" && mem.ConnID() == m.connID {
			continue
		}
		if m.frame != nil {
			if b, err := m.frame.Bytes(mem.Format()); err == nil {
				mem.Send(b)
			}
		}
		if m.event != nil {
			mem.Event(m.event)
		}
	}
}

// Hub owns the RoomFanout actors of one instance. It is safe for concurrent
// use; Close stops every actor and waits for them.
type Hub struct {
	mailboxSize int

	mu     sync.RWMutex
	rooms  map[string]*room
	closed bool
	wg     sync.WaitGroup
}

// NewHub returns a hub whose room actors have mailboxes of mailboxSize
// (zero means 1024).
func NewHub(mailboxSize int) *Hub {
	if mailboxSize <= 0 {
		mailboxSize = 1024
	}
	return &Hub{mailboxSize: mailboxSize, rooms: make(map[string]*room)}
}

// Join adds m to the local room roomID, starting its actor if needed. A
// member joins a room once; joining twice delivers twice.
func (h *Hub) Join(roomID string, m Member) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	r := h.rooms[roomID]
	if r == nil {
		r = &room{mailbox: make(chan msg, h.mailboxSize)}
		h.rooms[roomID] = r
		h.wg.Go(r.run)
	}
	r.count++
	r.mailbox <- msg{kind: msgJoin, member: m}
}

// Leave removes the connection from the local room; the room's actor stops
// with its last member.
func (h *Hub) Leave(roomID, connID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.rooms[roomID]
	if r == nil {
		return
	}
	r.mailbox <- msg{kind: msgLeave, connID: connID}
	if r.count--; r.count <= 0 {
		delete(h.rooms, roomID)
		close(r.mailbox)
	}
}

// Deliver hands frame and event (either may be nil) to every local member
// of roomID except the connection skip. It reports false when no member of
// the room is here. It blocks only while the room's mailbox is full.
func (h *Hub) Deliver(roomID string, frame *codec.Frame, skip string, event any) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	r := h.rooms[roomID]
	if r == nil {
		return false
	}
	r.mailbox <- msg{kind: msgDeliver, connID: skip, frame: frame, event: event}
	return true
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

// Close stops every room actor after it has delivered what it holds, and
// waits for them. Later calls do nothing.
func (h *Hub) Close() {
	h.mu.Lock()
	if !h.closed {
		h.closed = true
		for id, r := range h.rooms {
			delete(h.rooms, id)
			close(r.mailbox)
		}
	}
	h.mu.Unlock()
	h.wg.Wait()
}
