package sendq

import (
	"sync"
	"time"
)

// Queue is safe for concurrent use by any number of producers and one
// writer at a time. The zero value is not usable; call New.
type Queue struct {
	mu        sync.Mutex
	items     [][]byte
	out       [][]byte // the writer's batch, until its next Next
	bytes     int
	maxBytes  int
	closed    bool // Seal, Close or Stop: pushes are refused
	full      bool
	slowAfter time.Duration
	onSlow    func()
	slowTimer *time.Timer

	// writing is set from the push that starts a writer until that writer
	// finishes (Next finds nothing, or Stop); startWriter starts it.
	writing     bool
	startWriter func()
	// finished, once made by Seal, is closed when no writer is at work.
	finished chan struct{}
}

// New returns a queue holding at most maxBytes of frames. When a push is
// refused for lack of room and nothing is drained for slowAfter, onSlow is
// called once, on its own goroutine. startWriter is called by a push that
// finds no writer at work, on the pushing goroutine, and must not block: it
// starts a goroutine that writes what Next gives until Next reports false.
func New(maxBytes int, slowAfter time.Duration, onSlow, startWriter func()) *Queue {
	return &Queue{
		maxBytes:    maxBytes,
		slowAfter:   slowAfter,
		onSlow:      onSlow,
		startWriter: startWriter,
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
	start := !q.writing
	q.writing = true
	q.mu.Unlock()
	if start {
		q.startWriter()
	}
	return true
}

// Next is the writer's: it takes everything queued, in order, valid until
// the writer's next call (the queue keeps the two buffers and swaps them,
// so a steady writer allocates nothing). When nothing is queued it reports
// false: the writer has finished and must return (the next push starts
// another).
func (q *Queue) Next() ([][]byte, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	clear(q.out) // the writer is done with it
	if len(q.items) == 0 {
		q.finish()
		return nil, false
	}
	q.items, q.out = q.out[:0], q.items
	q.bytes = 0
	if q.full {
		q.full = false
		if q.slowTimer != nil {
			q.slowTimer.Stop()
			q.slowTimer = nil
		}
	}
	return q.out, true
}

// Stop is the writer's when it gives up before the queue is empty (its
// socket failed): the queue is closed, and the writer has finished.
func (q *Queue) Stop() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.close()
	q.finish()
}

// finish records that the writer has finished; under mu.
func (q *Queue) finish() {
	q.writing = false
	if q.finished != nil {
		select {
		case <-q.finished:
		default:
			close(q.finished)
		}
	}
}

// Seal refuses further pushes but keeps what is queued for the writer. The
// channel is closed once the writer has finished (at once if none is at
// work): everything queued before Seal was written, or the writer stopped
// or was stopped by Close.
func (q *Queue) Seal() <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	if q.finished == nil {
		q.finished = make(chan struct{})
		if !q.writing {
			close(q.finished)
		}
	}
	return q.finished
}

// Close refuses further pushes, drops what is queued (a writer at work
// finishes at its next Next) and stops the slow timer. It is idempotent.
func (q *Queue) Close() {
	q.mu.Lock()
	q.close()
	q.mu.Unlock()
}

func (q *Queue) close() {
	q.closed = true
	q.items, q.bytes = nil, 0
	if q.slowTimer != nil {
		q.slowTimer.Stop()
		q.slowTimer = nil
	}
}

// Bytes is the number of bytes queued.
func (q *Queue) Bytes() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.bytes
}
