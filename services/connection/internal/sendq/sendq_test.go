package sendq

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// starts counts the writers a queue asks for, without running any.
type starts struct{ n atomic.Int32 }

func (s *starts) start() { s.n.Add(1) }

func TestPushNextBoundedByBytes(t *testing.T) {
	var s starts
	q := New(Config{MaxBytes: 10, SlowAfter: time.Hour, StartWriter: s.start})
	tests := []struct {
		frame string
		ok    bool
	}{
		{"abcd", true}, {"efgh", true}, {"ijk", false}, {"ij", true}, {"", true}, {"x", false},
	}
	for _, tt := range tests {
		if got := q.Push([]byte(tt.frame)); got != tt.ok {
			t.Fatalf("Push(%q) = %v, want %v", tt.frame, got, tt.ok)
		}
	}
	if n := s.n.Load(); n != 1 {
		t.Fatalf("%d writers started, want 1 (the first push's)", n)
	}
	got, ok := q.Next()
	if !ok || len(got) != 4 || string(got[0]) != "abcd" || string(got[2]) != "ij" || q.Bytes() != 0 {
		t.Fatalf("next: %q %v, %d bytes left", got, ok, q.Bytes())
	}
	if !q.Push([]byte("0123456789")) {
		t.Fatal("room after drain")
	}
	if n := s.n.Load(); n != 1 {
		t.Fatalf("a push while the writer works started another (%d)", n)
	}
	if got, ok := q.Next(); !ok || len(got) != 1 {
		t.Fatalf("next: %q %v", got, ok)
	}
	if _, ok := q.Next(); ok {
		t.Fatal("empty queue: the writer must finish")
	}
	q.Push([]byte("a"))
	if n := s.n.Load(); n != 2 {
		t.Fatalf("a push after the writer finished started %d writers in all, want 2", n)
	}
	q.Close()
	if q.Push([]byte("a")) {
		t.Fatal("push after close")
	}
	if got, ok := q.Next(); ok {
		t.Fatalf("closed queue gave %q", got)
	}
}

func TestNextReusesSpare(t *testing.T) {
	q := New(Config{MaxBytes: 1 << 20, SlowAfter: time.Hour, StartWriter: func() {}})
	frame := []byte("note")
	for range 3 {
		q.Push(frame)
		_, _ = q.Next()
	}
	allocs := testing.AllocsPerRun(100, func() {
		q.Push(frame)
		q.Push(frame)
		_, _ = q.Next()
	})
	if allocs != 0 {
		t.Fatalf("steady push/next allocates %v per run", allocs)
	}
}

func TestSlowWhenFullAndNotDrained(t *testing.T) {
	tests := []struct {
		name     string
		drain    bool
		wantSlow bool
	}{
		{"stays full", false, true},
		{"drained in time", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				mu   sync.Mutex
				slow bool
			)
			const after = 50 * time.Millisecond
			q := New(Config{MaxBytes: 4, SlowAfter: after, OnSlow: func() { mu.Lock(); slow = true; mu.Unlock() }, StartWriter: func() {}})
			defer q.Close()
			q.Push([]byte("full"))
			if q.Push([]byte("more")) {
				t.Fatal("push into a full queue")
			}
			if tt.drain {
				q.Next()
			}
			time.Sleep(3 * after) // the timer under test is real time
			mu.Lock()
			defer mu.Unlock()
			if slow != tt.wantSlow {
				t.Fatalf("slow = %v, want %v", slow, tt.wantSlow)
			}
		})
	}
}

// writerPool runs the writers a queue starts, as a connection does, and
// records what they write and how many ever worked at once.
type writerPool struct {
	q       *Queue
	wg      sync.WaitGroup
	mu      sync.Mutex
	written []string
	active  atomic.Int32
	overlap atomic.Bool // two writers were at work at once
	delay   time.Duration
}

func (p *writerPool) start() {
	p.wg.Go(func() {
		for {
			batch, ok := p.q.Next()
			if !ok {
				return
			}
			// Between Next's batch and the next Next, this writer owns
			// the socket.
			if p.active.Add(1) > 1 {
				p.overlap.Store(true)
			}
			time.Sleep(p.delay)
			p.mu.Lock()
			for _, b := range batch {
				p.written = append(p.written, string(b))
			}
			p.mu.Unlock()
			p.active.Add(-1)
		}
	})
}

func TestConcurrentProducersOneWriterAtATime(t *testing.T) {
	p := &writerPool{}
	p.q = New(Config{MaxBytes: 1 << 20, SlowAfter: time.Hour, StartWriter: p.start})
	var producers sync.WaitGroup
	for range 8 {
		producers.Go(func() {
			for i := range 1000 {
				if i%100 == 0 {
					time.Sleep(time.Millisecond) // let the writer finish now and then
				}
				p.q.Push([]byte("x"))
			}
		})
	}
	producers.Wait()
	<-p.q.Seal()
	p.wg.Wait()
	if len(p.written) != 8000 {
		t.Fatalf("wrote %d frames, want 8000", len(p.written))
	}
	if p.overlap.Load() {
		t.Fatal("two writers at work at once")
	}
}

// TestSealWaitsForWhatIsQueued: the frames queued before Seal are written
// before its channel closes; none is accepted after it.
func TestSealWaitsForWhatIsQueued(t *testing.T) {
	p := &writerPool{delay: 20 * time.Millisecond}
	p.q = New(Config{MaxBytes: 1 << 20, SlowAfter: time.Hour, StartWriter: p.start})
	p.q.Push([]byte("a"))
	p.q.Push([]byte("b"))
	finished := p.q.Seal()
	if p.q.Push([]byte("late")) {
		t.Fatal("push after seal")
	}
	<-finished
	p.mu.Lock()
	got := append([]string(nil), p.written...)
	p.mu.Unlock()
	if len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Fatalf("written before seal finished: %q", got)
	}
	p.wg.Wait()

	idle := New(Config{MaxBytes: 1 << 20, SlowAfter: time.Hour, StartWriter: func() {}})
	select {
	case <-idle.Seal():
	default:
		t.Fatal("seal of a queue without a writer must be finished at once")
	}
}

// TestStopFinishesTheWriter: a writer that gives up closes the queue and
// releases whoever waits on Seal.
func TestStopFinishesTheWriter(t *testing.T) {
	var s starts
	q := New(Config{MaxBytes: 1 << 20, SlowAfter: time.Hour, StartWriter: s.start})
	q.Push([]byte("a"))
	finished := q.Seal()
	select {
	case <-finished:
		t.Fatal("finished while the writer has work")
	default:
	}
	q.Stop()
	<-finished
	if q.Bytes() != 0 || q.Push([]byte("b")) {
		t.Fatal("a stopped queue keeps or takes frames")
	}
}

// TestLingeringWriterKeepsWorking: a writer that emptied the queue waits
// Linger for the next frame instead of finishing (no new writer is
// started), finishes after it, and a seal wakes it at once.
func TestLingeringWriterKeepsWorking(t *testing.T) {
	p := &writerPool{}
	var started atomic.Int32
	p.q = New(Config{MaxBytes: 1 << 20, SlowAfter: time.Hour, Linger: time.Hour,
		StartWriter: func() { started.Add(1); p.start() }})
	for i := range 20 {
		p.q.Push([]byte("x"))
		time.Sleep(time.Millisecond * time.Duration(i%3))
	}
	finished := p.q.Seal()
	select {
	case <-finished:
	case <-time.After(5 * time.Second):
		t.Fatal("seal did not end a lingering writer")
	}
	p.wg.Wait()
	if n := started.Load(); n != 1 {
		t.Fatalf("%d writers started for one lingering writer's traffic", n)
	}
	if len(p.written) != 20 {
		t.Fatalf("wrote %d frames, want 20", len(p.written))
	}

	short := &writerPool{}
	short.q = New(Config{MaxBytes: 1 << 20, SlowAfter: time.Hour, Linger: 10 * time.Millisecond, StartWriter: short.start})
	short.q.Push([]byte("x"))
	short.wg.Wait() // finishes by itself once Linger has passed
}
