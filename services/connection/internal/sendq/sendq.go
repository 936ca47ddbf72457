package sendq

import (
	"sync"
	"time"
)

// Queue is safe for concurrent use by any number of producers and one
// consumer. The zero value is not usable; call New.
type Queue struct {
	mu        sync.Mutex
	items     [][]byte
	bytes     int
	maxBytes  int
	closed    bool
	full      bool
	slowAfter time.Duration
	onSlow    func()
	slowTimer *time.Timer

	ready chan struct{}
}

// New returns a queue holding at most maxBytes of frames. When a push is
// refused for lack of room and nothing is drained for slowAfter, onSlow is
// called once, on its own goroutine.
func New(maxBytes int, slowAfter time.Duration, onSlow func()) *Queue {
	return &Queue{
		maxBytes:  maxBytes,
		slowAfter: slowAfter,
		onSlow:    onSlow,
		ready:     make(chan struct{}, 1),
	}
}

// Push queues frame (which must not be changed afterwards). It reports
// false when the queue is closed or the frame does not fit; the frame is then
// dropped. A single frame larger than the whole queue is always refused.
func (q *Queue) Push(frame []byte) bool {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false
	}
	if q.bytes+len(frame) > q.maxBytes {
		if !q.full {
			q.full = true
			if q.onSlow != nil {
				q.slowTimer = time.AfterFunc(q.slowAfter, q.onSlow)
			}
		}
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, frame)
	q.bytes += len(frame)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return true
}

// Ready is signalled after a push; the consumer then calls Drain. A signal
// may be spurious (Drain returns nothing).
func (q *Queue) Ready() <-chan struct{} { return q.ready }

// Drain takes everything queued, in order, and gives spare (emptied) to the
// queue as its next buffer, so a steady consumer allocates nothing.
func (q *Queue) Drain(spare [][]byte) [][]byte {
	clear(spare)
	q.mu.Lock()
	out := q.items
	q.items = spare[:0]
	q.bytes = 0
	if q.full {
		q.full = false
		if q.slowTimer != nil {
			q.slowTimer.Stop()
			q.slowTimer = nil
		}
	}
	q.mu.Unlock()
	return out
}

// Close refuses further pushes, drops what is queued and stops the slow
// timer. It is idempotent.
func (q *Queue) Close() {
	q.mu.Lock()
	q.closed = true
	q.items, q.bytes = nil, 0
	if q.slowTimer != nil {
		q.slowTimer.Stop()
		q.slowTimer = nil
	}
	q.mu.Unlock()
}

// Bytes is the number of bytes queued.
func (q *Queue) Bytes() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.bytes
}
