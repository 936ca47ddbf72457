package fanout

import (
	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/services/connection/internal/codec"
)

// maxHeld bounds the frames kept for a pending member; beyond it the
// newest are dropped (a join that takes that long has bigger problems).
const maxHeld = 256

// The RoomFanout's messages besides *Delivery.
type (
	join struct {
		member  Member
		pending bool
	}
	leave struct {
		connID string
		last   bool // the Hub has forgotten the room: stop after this
	}
	activate struct{ connID string }
)

// slot is one member as the actor sees it; id and format are cached so the
// delivery loop makes no interface calls for them.
type slot struct {
	m      Member
	id     string
	format codec.Format
	// pending: the member's join is not confirmed yet; frames are held
	// (in order) until activate, so nothing published between the room
	// service's reply and the member's local welcome is lost.
	pending bool
	held    [][]byte
}

// roomActor is the RoomFanout of one local room. Its state is the member
// list, which the Hub mirrors: a restarted instance reloads it in Started.
type roomActor struct {
	hub   *Hub
	e     *entry
	slots []slot
}

var (
	_ actor.Actor   = (*roomActor)(nil)
	_ actor.Starter = (*roomActor)(nil)
)

// Started loads the membership the Hub records (empty, or the members of
// the instance that crashed); messages still queued then apply on top of
// it, and every change is idempotent per connection id.
func (r *roomActor) Started(*actor.Context) error {
	for _, m := range r.hub.snapshot(r.e) {
		r.add(m.member, m.pending)
	}
	return nil
}

func (r *roomActor) Receive(c *actor.Context) {
	switch m := c.Message().(type) {
	case *Delivery:
		r.deliver(m)
	case join:
		r.add(m.member, m.pending)
	case activate:
		r.activate(m.connID)
	case leave:
		r.remove(m.connID)
		if m.last {
			c.Stop()
		}
	}
}

func (r *roomActor) index(id string) int {
	for i := range r.slots {
		if r.slots[i].id == id {
			return i
		}
	}
	return -1
}

func (r *roomActor) add(m Member, pending bool) {
	if r.index(m.ConnID()) >= 0 {
		return
	}
	r.slots = append(r.slots, slot{m: m, id: m.ConnID(), format: m.Format(), pending: pending})
}

func (r *roomActor) remove(id string) {
	if i := r.index(id); i >= 0 {
		r.slots[i] = slot{}
		r.slots = append(r.slots[:i], r.slots[i+1:]...)
	}
}

// activate hands a pending member what was held for it, then lets later
// deliveries through; both from this goroutine, so order is kept.
func (r *roomActor) activate(id string) {
	i := r.index(id)
	if i < 0 || !r.slots[i].pending {
		return
	}
	s := &r.slots[i]
	for _, b := range s.held {
		s.m.Send(b)
	}
	s.pending, s.held = false, nil
}

// deliver never blocks: Send pushes to a bounded queue and Event is a
// fail-fast Tell (the member closes itself as slow when it cannot keep up).
func (r *roomActor) deliver(d *Delivery) {
	for i := range r.slots {
		s := &r.slots[i]
		if d.Skip != "" && s.id == d.Skip {
			continue
		}
		if d.Frame != nil {
			if b, err := d.Frame.Bytes(s.format); err == nil {
				switch {
				case !s.pending:
					s.m.Send(b)
				case len(s.held) < maxHeld:
					s.held = append(s.held, b)
				}
			}
		}
		if d.Event != nil {
			s.m.Event(d.Event)
		}
	}
}
