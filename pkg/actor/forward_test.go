package actor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
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

// fullTarget starts an actor with a one-slot mailbox under policy, busy in
// a long Receive with its mailbox full. Closing the returned gate lets it
// go on.
func fullTarget(t *testing.T, sys *System, policy Overflow, rec *recorder) (*Ref, chan struct{}) {
	t.Helper()
	entered, gate := make(chan struct{}, 1), make(chan struct{})
	ref, err := sys.Spawn(Props{Name: "slow", MailboxSize: 1, Overflow: policy, New: gated(rec, entered, gate)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	if err := ref.Tell(ctx, "block"); err != nil {
		t.Fatal(err)
	}
	recv(t, entered)
	if err := ref.Tell(ctx, "queued"); err != nil {
		t.Fatal(err)
	}
	return ref, gate
}

// TestForwardFailsFastOnFullTarget: whatever the target's policy, a
// router forwarding to a full target gets ErrMailboxFull at once, while
// the target is still busy, and goes on routing to other targets.
func TestForwardFailsFastOnFullTarget(t *testing.T) {
	for _, policy := range []Overflow{Block, FailFast, DropNewest} {
		t.Run(policy.String(), func(t *testing.T) {
			sys := newTestSystem(t, Config{})
			dead := events[DeadLetter](t, sys)
			var rec recorder
			slow, gate := fullTarget(t, sys, policy, &rec)
			fast, err := sys.Spawn(Props{New: func() Actor {
				return funcActor(func(c *Context) { c.Respond(fmt.Sprint("fast:", c.Message())) })
			}})
			if err != nil {
				t.Fatal(err)
			}
			tells := make(chan error, 1)
			router, err := sys.Spawn(Props{Kind: "router", New: func() Actor {
				return funcActor(func(c *Context) {
					to := slow
					if c.Message() == "to-fast" {
						to = fast
					}
					err := c.Forward(to)
					if c.Message() == "tell" {
						tells <- err
						return
					}
					if err != nil {
						c.Respond(fmt.Errorf("router: %w", err))
					}
				})
			}})
			if err != nil {
				t.Fatal(err)
			}
			ctx := testCtx(t)
			// The asker's deadline is the test's (10s): a Forward that
			// waited for room would fail with DeadlineExceeded, not this.
			if _, err := router.Ask(ctx, "ask"); !errors.Is(err, ErrMailboxFull) {
				t.Fatalf("Ask forwarded to a full target: err = %v, want ErrMailboxFull", err)
			}
			if err := router.Tell(ctx, "tell"); err != nil {
				t.Fatal(err)
			}
			if err := recv(t, tells); !errors.Is(err, ErrMailboxFull) {
				t.Fatalf("Tell forwarded to a full target: err = %v, want ErrMailboxFull", err)
			}
			if got, err := Ask[string](ctx, router, "to-fast"); err != nil || got != "fast:to-fast" {
				t.Fatalf("router stalled: %q, %v", got, err)
			}
			select {
			case <-gate:
				t.Fatal("the target must still be busy")
			default:
			}
			close(gate)
			drained(t, slow)
			if _, err := slow.Ask(ctx, "sync"); err != nil {
				t.Fatal(err)
			}
			if got := rec.take(); !slices.Equal(got, []string{"block", "queued", "sync"}) {
				t.Fatalf("target handled %v: a refused forward must not be queued", got)
			}
			select {
			case dl := <-dead:
				t.Fatalf("a refused forward stays the router's, no dead letter: %+v", dl)
			default:
			}
		})
	}
}

// TestTryTell: TryTell never waits, whatever the policy; it fails with
// ErrMailboxFull on a full lane and ErrStopped on a stopped actor.
func TestTryTell(t *testing.T) {
	for _, policy := range []Overflow{Block, FailFast, DropNewest} {
		t.Run(policy.String(), func(t *testing.T) {
			sys := newTestSystem(t, Config{})
			dead := events[DeadLetter](t, sys)
			var rec recorder
			slow, gate := fullTarget(t, sys, policy, &rec)
			ctx := testCtx(t)
			if err := slow.TryTell(ctx, "shed"); !errors.Is(err, ErrMailboxFull) {
				t.Fatalf("TryTell to a full lane: %v, want ErrMailboxFull", err)
			}
			select {
			case <-gate:
				t.Fatal("the target must still be busy")
			default:
			}
			select {
			case dl := <-dead:
				t.Fatalf("the caller was told; no dead letter: %+v", dl)
			default:
			}
			close(gate)
			drained(t, slow)
			if _, err := slow.Ask(ctx, "sync"); err != nil {
				t.Fatal(err)
			}
			type key struct{}
			if err := slow.TryTell(context.WithValue(ctx, key{}, 1), "room"); err != nil {
				t.Fatalf("TryTell with room: %v", err)
			}
			drained(t, slow)
			if _, err := slow.Ask(ctx, "sync"); err != nil {
				t.Fatal(err)
			}
			if got := rec.take(); !slices.Equal(got, []string{"block", "queued", "sync", "room", "sync"}) {
				t.Fatalf("handled %v", got)
			}
			if err := slow.Stop(ctx); err != nil {
				t.Fatal(err)
			}
			if err := slow.TryTell(ctx, "late"); !errors.Is(err, ErrStopped) {
				t.Fatalf("TryTell to a stopped actor: %v, want ErrStopped", err)
			}
		})
	}
}

// drained waits until r's user lane is empty, so that an Ask under a
// fail-fast policy finds room.
func drained(t *testing.T, r *Ref) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for r.user.len() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%s: mailbox not drained", r.Name())
		}
		time.Sleep(time.Millisecond)
	}
}
