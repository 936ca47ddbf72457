package actor

import (
	"errors"
	"fmt"
	"testing"
)

// TestForward checks that a router actor forwarding an Ask stays out of the
// reply path: the worker's Respond reaches the original asker, and a
// forward that fails leaves the router to answer.
func TestForward(t *testing.T) {
	sys := newTestSystem(t, Config{})
	worker, err := sys.Spawn(Props{Kind: "worker", New: func() Actor {
		return funcActor(func(c *Context) { c.Respond(fmt.Sprintf("worker:%v", c.Message())) })
	}})
	if err != nil {
		t.Fatal(err)
	}
	stopped, err := sys.Spawn(echoProps())
	if err != nil {
		t.Fatal(err)
	}
	if err := stopped.Stop(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	router, err := sys.Spawn(Props{Kind: "router", New: func() Actor {
		return funcActor(func(c *Context) {
			to := worker
			if c.Message() == "to-stopped" {
				to = stopped
			}
			if err := c.Forward(to); err != nil {
				c.Respond(fmt.Errorf("router: %w", err))
			}
		})
	}})
	if err != nil {
		t.Fatal(err)
	}

	got, err := Ask[string](testCtx(t), router, "hello")
	if err != nil || got != "worker:hello" {
		t.Fatalf("Ask through router = %q, %v; want worker:hello", got, err)
	}
	if _, err := router.Ask(testCtx(t), "to-stopped"); !errors.Is(err, ErrStopped) {
		t.Fatalf("Ask forwarded to a stopped actor: err = %v, want ErrStopped from the router", err)
	}
	for i := range 100 { // slots are pooled: replies never cross
		got, err := Ask[string](testCtx(t), router, i)
		if want := fmt.Sprintf("worker:%d", i); err != nil || got != want {
			t.Fatalf("Ask %d = %q, %v; want %q", i, got, err, want)
		}
	}
}

func TestKeyIndexMatchesHashPool(t *testing.T) {
	sys := newTestSystem(t, Config{})
	pool, err := NewHashPool(sys, echoProps(), 5, func(m any) string { return m.(string) })
	if err != nil {
		t.Fatal(err)
	}
	refs := pool.Refs()
	for i := range 200 {
		key := fmt.Sprintf("room-%d", i)
		if pool.Route(key) != refs[KeyIndex(key, 5)] {
			t.Fatalf("KeyIndex(%q) disagrees with the pool's routing", key)
		}
	}
}
