package actor

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newTestSystem returns a system shut down when the test ends.
func newTestSystem(t testing.TB, cfg Config) *System {
	t.Helper()
	sys := NewSystem(cfg)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := sys.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return sys
}

// testCtx is a generous deadline for steps that must not hang.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// idem is a message that says it may be handled again after a panic.
type idem string

func (idem) Idempotent() bool { return true }

// funcActor adapts a function to Actor.
type funcActor func(c *Context)

func (f funcActor) Receive(c *Context) { f(c) }

// echo answers every Ask with its message.
func echoProps() Props {
	return Props{Kind: "echo", New: func() Actor {
		return funcActor(func(c *Context) { c.Respond(c.Message()) })
	}}
}

// recv waits for a value from ch or fails the test.
func recv[T any](t testing.TB, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %T", *new(T))
		panic("unreachable")
	}
}

// recorder is a concurrency-safe log shared by test actors.
type recorder struct {
	mu  sync.Mutex
	log []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.log = append(r.log, s)
	r.mu.Unlock()
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.log
	r.log = nil
	return l
}

// events subscribes to T on sys and returns a channel of what is published.
func events[T any](t testing.TB, sys *System) <-chan T {
	ch := make(chan T, 1024)
	t.Cleanup(Subscribe(sys.Events(), func(v T) { ch <- v }))
	return ch
}

// fakeClock drives supervisor timers by hand: every scheduled delay is
// reported on scheduled, and a timer fires only when Advance reaches it.
type fakeClock struct {
	mu        sync.Mutex
	now       time.Time
	timers    []*fakeTimer
	scheduled chan time.Duration
}

type fakeTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Unix(1_700_000_000, 0), scheduled: make(chan time.Duration, 256)}
}

// config installs the clock in cfg, with a jitter that keeps delays exact.
func (c *fakeClock) config(cfg Config) Config {
	cfg.now, cfg.afterFunc = c.Now, c.AfterFunc
	cfg.jitter = func() float64 { return 0.5 }
	return cfg
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	t := &fakeTimer{at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	c.mu.Unlock()
	c.scheduled <- d
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := !t.stopped
		t.stopped = true
		return was
	}
}

// Advance moves time on by d and fires the timers now due, earliest first.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due, keep []*fakeTimer
	for _, t := range c.timers {
		switch {
		case t.stopped:
		case !t.at.After(c.now):
			t.stopped = true // fired
			due = append(due, t)
		default:
			keep = append(keep, t)
		}
	}
	c.timers = keep
	c.mu.Unlock()
	slices.SortStableFunc(due, func(a, b *fakeTimer) int { return a.at.Compare(b.at) })
	for _, t := range due {
		t.f()
	}
}

// pending counts timers neither fired nor stopped.
func (c *fakeClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.timers {
		if !t.stopped {
			n++
		}
	}
	return n
}

// instant makes every backoff timer fire at once, for tests that need
// restarts but not their timing.
func instant(cfg Config) Config {
	cfg.afterFunc = func(_ time.Duration, f func()) func() bool { f(); return func() bool { return false } }
	return cfg
}
