package actor

import (
	"context"
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
