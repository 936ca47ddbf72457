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

// slot is one member as the actor sees it; id is cached so the delivery
// loop makes no interface call for it.
type slot struct {
	m  Member
	id string
	// pending: the member's join is not confirmed yet; frames are held
	// (in order) until activate, so nothing published between the room
	// service's reply and the member's local welcome is lost.
	pending bool
	held    []*codec.Frame
}

// roomState is a RoomFanout's state: the room's local members, in join
// order. It is the one record of them.
type roomState struct {
	slots []slot
}

// roomActor is the RoomFanout of one local room. Its state lives in the
// Hub's entry, outside the instance: a socket cannot be reloaded from
// storage, so an instance rebuilt after a panic carries on with the same
// members (a panic inside Send leaves the slice intact).
type roomActor struct {
	e *entry
}

var _ actor.Actor = (*roomActor)(nil)

func (r *roomActor) Receive(c *actor.Context) {
	st := &r.e.state
	if r.e.desync.Load() && r.e.desync.Swap(false) {
		st.resync(r.e.id)
	}
	switch m := c.Message().(type) {
	case *Delivery:
		st.deliver(m)
	case join:
		st.add(m.member, m.pending)
	case activate:
		st.activate(m.connID)
	case leave:
		st.remove(m.connID)
		if m.last {
			c.Stop()
		}
	}
}

func (st *roomState) index(id string) int {
	for i := range st.slots {
		if st.slots[i].id == id {
			return i
		}
	}
	return -1
}

// add is idempotent per connection id: a join queued again after a
// restart changes nothing.
func (st *roomState) add(m Member, pending bool) {
	if st.index(m.ConnID()) >= 0 {
		return
	}
	st.slots = append(st.slots, slot{m: m, id: m.ConnID(), pending: pending})
}

func (st *roomState) remove(id string) {
	if i := st.index(id); i >= 0 {
		st.slots[i] = slot{}
		st.slots = append(st.slots[:i], st.slots[i+1:]...)
	}
}

// activate hands a pending member what was held for it, then lets later
// deliveries through; both from this goroutine, so order is kept.
func (st *roomState) activate(id string) {
	i := st.index(id)
	if i < 0 || !st.slots[i].pending {
		return
	}
	s := &st.slots[i]
	for _, fr := range s.held {
		s.m.Send(fr)
	}
	s.pending, s.held = false, nil
}

// deliver never blocks: Send pushes to a bounded queue and Event is a
// fail-fast Tell (the member closes itself as slow when it cannot keep up).
func (st *roomState) deliver(d *Delivery) {
	for i := range st.slots {
		s := &st.slots[i]
		if d.Skip != "" && s.id == d.Skip {
			continue
		}
		if d.Frame != nil {
			switch {
			case !s.pending:
				s.m.Send(d.Frame)
			case len(s.held) < maxHeld:
				s.held = append(s.held, d.Frame)
			}
		}
		if d.Event != nil {
			s.m.Event(d.Event)
		}
	}
}

// resync tells every member that a state event of the room was lost.
func (st *roomState) resync(roomID string) {
	for i := range st.slots {
		st.slots[i].m.Event(Resync{RoomID: roomID})
	}
}
