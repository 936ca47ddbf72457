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
	closed    bool // Seal, Close or Stop: pushes are refused
	full      bool
	slowTimer *time.Timer
	cfg       Config

	// writing is set from the push that starts a writer until that writer
	// finishes (Next finds nothing, or Stop).
	writing bool
	// lingering is set while the writer waits in Next for a push, which
	// then signals wake (capacity 1); linger is the writer's timer.
	lingering bool
	wake      chan struct{}
	linger    *time.Timer
	// finished, once made by Seal, is closed when no writer is at work.
	finished chan struct{}
}

// Config is what a Queue is made of.
type Config struct {
	// MaxBytes bounds the frames queued.
	MaxBytes int
	// OnSlow is called once, on its own goroutine, when a push is refused
	// for lack of room and nothing is drained for SlowAfter.
	SlowAfter time.Duration
	OnSlow    func()
	// StartWriter is called by a push that finds no writer at work, on the
	// pushing goroutine, and must not block: it starts a goroutine that
	// writes what Next gives until Next reports false.
	StartWriter func()
	// Linger is how long a writer that emptied the queue waits for the
	// next frame before it finishes: a connection that hears notes keeps
	// its writer (a goroutine start per delivery cost the note path), an
	// idle one gives it back. Zero: it finishes at once.
	Linger time.Duration
}

// New returns an empty queue.
func New(cfg Config) *Queue {
	return &Queue{cfg: cfg, wake: make(chan struct{}, 1)}
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
	if q.bytes+len(frame) > q.cfg.MaxBytes {
		if !q.full {
			q.full = true
			if q.cfg.OnSlow != nil {
				q.slowTimer = time.AfterFunc(q.cfg.SlowAfter, q.cfg.OnSlow)
			}
		}
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, frame)
	q.bytes += len(frame)
	start := !q.writing
	q.writing = true
	lingering := q.lingering
	q.mu.Unlock()
	switch {
	case start:
		q.cfg.StartWriter()
	case lingering:
		q.signal()
	}
	return true
}

// Next is the writer's: it takes everything queued, in order, valid until
// the writer's next call (the queue keeps the two buffers and swaps them,
// so a steady writer allocates nothing). When nothing is queued, even
// after Config.Linger, it reports false: the writer has finished and must
// return (the next push starts another).
func (q *Queue) Next() ([][]byte, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	clear(q.out) // the writer is done with it
	if len(q.items) == 0 && q.cfg.Linger > 0 && !q.closed {
		// Pushes signal only while the writer lingers, so what is in
		// wake now is from the last linger's end: not news.
		select {
		case <-q.wake:
		default:
		}
		q.lingering = true
		q.mu.Unlock()
		q.waitLinger()
		q.mu.Lock()
		q.lingering = false
	}
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

// waitLinger waits for a push, a seal or close, or the end of Linger.
func (q *Queue) waitLinger() {
	if q.linger == nil {
		q.linger = time.NewTimer(q.cfg.Linger)
	} else {
		q.linger.Reset(q.cfg.Linger)
	}
	select {
	case <-q.wake:
	case <-q.linger.C:
	}
	q.linger.Stop()
}

// signal wakes a lingering writer.
func (q *Queue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
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
	q.refuse()
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
	q.refuse()
	q.items, q.bytes = nil, 0
	if q.slowTimer != nil {
		q.slowTimer.Stop()
		q.slowTimer = nil
	}
}

// refuse turns pushes away from now on and wakes a lingering writer, which
// then finds what is left or nothing; under mu.
func (q *Queue) refuse() {
	q.closed = true
	if q.lingering {
		q.signal()
	}
}

// Bytes is the number of bytes queued.
func (q *Queue) Bytes() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.bytes
}
