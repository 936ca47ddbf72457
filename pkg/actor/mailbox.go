package actor

import (
	"sync"
	"sync/atomic"
)

// mailbox is one bounded lane: a ring of lane items (bare messages and
// *envelope) with many senders and one reader, the actor.
//
// A buffered channel makes the sender and the reader take one lock per
// message, and they contend for it; that lock was half the cost of a Tell.
// Here senders serialize on a mutex only among themselves, and the reader
// takes no lock: a sender writes a slot and then publishes tail, the reader
// sees the slot through tail and frees it by publishing head. Each side
// reads the other's counter only when its cached copy says the ring is full
// (sender) or empty (reader). The ring is preallocated, so nothing
// allocates per message.
//
// Capacity is exact: a message counts from its push until the reader takes
// it to be handled.
//
// Reader-side fields belong to the actor goroutine; once the actor has
// stopped (Ref.stopped), whoever holds Ref.drainMu reads.
type mailbox struct {
	buf  []any
	size uint64

	_ [64]byte // keep the senders' and the reader's hot fields apart

	mu    sync.Mutex // serializes senders
	tail  atomic.Uint64
	tidx  int    // buf index of tail; under mu
	hseen uint64 // the senders' last view of head; under mu

	_ [64]byte

	head  atomic.Uint64
	hidx  int    // buf index of head; reader only
	tseen uint64 // the reader's last view of tail; reader only

	_ [64]byte

	// blocked counts senders waiting for room (Overflow Block); the reader
	// then signals space after each message it takes.
	blocked atomic.Int32
	space   chan struct{} // capacity 1
}

func newMailbox(size int) *mailbox {
	return &mailbox{buf: make([]any, size), size: uint64(size), space: make(chan struct{}, 1)}
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
	m.buf[m.tidx] = v
	if m.tidx++; m.tidx == len(m.buf) {
		m.tidx = 0
	}
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
	v := m.buf[m.hidx]
	m.buf[m.hidx] = nil
	if m.hidx++; m.hidx == len(m.buf) {
		m.hidx = 0
	}
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
