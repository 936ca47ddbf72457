package actor

import (
	"sync"
	"sync/atomic"
)

// mailbox is one bounded lane: a queue of lane items (bare messages and
// *envelope) with many senders and one reader, the actor.
//
// A buffered channel makes the sender and the reader take one lock per
// message, and they contend for it; that lock was half the cost of a Tell.
// Here senders serialize on a mutex only among themselves, and the reader
// takes no lock: a sender writes a slot and then publishes tail, the reader
// sees the slot through tail and frees it by publishing head. Each side
// reads the other's counter only when its cached copy says the lane is full
// (sender) or empty (reader).
//
// The slots are a chain of small segments rather than one ring of the
// lane's capacity, so a mailbox holds memory for what is queued, not for
// what may be: a connection's actor, mostly idle, has a capacity of 272
// and 4 KiB of ring was a tenth of an idle connection's heap. A sender
// links the next segment before it publishes the slot that needs it; the
// reader leaves a segment only for the next one, and puts it in a pool the
// senders of every mailbox take from.
//
// Capacity is exact: a message counts from its push until the reader takes
// it to be handled.
//
// Reader-side fields belong to the actor goroutine; once the actor has
// stopped (Ref.stopped), whoever holds Ref.drainMu reads.
type mailbox struct {
	size uint64

	_ [64]byte // keep the senders' and the reader's hot fields apart

	mu    sync.Mutex // serializes senders
	tail  atomic.Uint64
	tseg  *segment // where tail's slot is; under mu
	tidx  int      // tail's slot in tseg; under mu
	hseen uint64   // the senders' last view of head; under mu

	_ [64]byte

	head  atomic.Uint64
	hseg  *segment // where head's slot is; reader only
	hidx  int      // head's slot in hseg; reader only
	tseen uint64   // the reader's last view of tail; reader only

	_ [64]byte

	// blocked counts senders waiting for room (Overflow Block); the reader
	// then signals space after each message it takes.
	blocked atomic.Int32
	space   chan struct{} // capacity 1
}

// segmentSlots is the size of one segment: 16 slots are 256 bytes, what
// an idle mailbox holds.
const segmentSlots = 16

type segment struct {
	slots [segmentSlots]any
	next  atomic.Pointer[segment]
}

// segments are the ones readers have left (every slot cleared, no next),
// shared by all mailboxes, so a deep lane allocates only while the lanes'
// total grows.
var segments = sync.Pool{New: func() any { return new(segment) }}

func newMailbox(size int) *mailbox {
	seg := new(segment)
	return &mailbox{size: uint64(size), tseg: seg, hseg: seg, space: make(chan struct{}, 1)}
}

// push queues v and reports false when the mailbox is full.
func (m *mailbox) push(v any) bool {
	m.mu.Lock()
	t := m.tail.Load()
	if t-m.hseen >= m.size {
		m.hseen = m.head.Load()
		if t-m.hseen >= m.size {
			m.mu.Unlock()
			return false
		}
	}
	if m.tidx == segmentSlots {
		next := segments.Get().(*segment)
		m.tseg.next.Store(next)
		m.tseg, m.tidx = next, 0
	}
	m.tseg.slots[m.tidx] = v
	m.tidx++
	m.tail.Store(t + 1)
	m.mu.Unlock()
	return true
}

// pop takes the oldest item; reader only. A nil mailbox is empty.
func (m *mailbox) pop() (any, bool) {
	if m == nil {
		return nil, false
	}
	h := m.head.Load()
	if h == m.tseen {
		m.tseen = m.tail.Load()
		if h == m.tseen {
			return nil, false
		}
	}
	if m.hidx == segmentSlots {
		// The sender of this item linked the next segment before it
		// published tail.
		done := m.hseg
		m.hseg, m.hidx = done.next.Load(), 0
		done.next.Store(nil)
		segments.Put(done)
	}
	v := m.hseg.slots[m.hidx]
	m.hseg.slots[m.hidx] = nil
	m.hidx++
	m.head.Store(h + 1)
	if m.blocked.Load() > 0 {
		m.signalSpace()
	}
	return v, true
}

// len is the number of queued messages; a nil mailbox has none.
func (m *mailbox) len() int {
	if m == nil {
		return 0
	}
	// head first: tail only grows, so the difference is never negative.
	h := m.head.Load()
	return int(m.tail.Load() - h)
}

// empty reports, to the reader, whether nothing is queued.
func (m *mailbox) empty() bool {
	return m == nil || m.head.Load() == m.tail.Load()
}

func (m *mailbox) signalSpace() {
	select {
	case m.space <- struct{}{}:
	default:
	}
}
