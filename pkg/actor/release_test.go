package actor

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// runningLoops counts the goroutines inside an actor's loop, waiting up to
// a few seconds for the count to reach want (goroutines end asynchronously).
func runningLoops(t *testing.T, want int) int {
	t.Helper()
	var n int
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		buf := make([]byte, 1<<22)
		buf = buf[:runtime.Stack(buf, true)]
		n = strings.Count(string(buf), "actor.(*Ref).loop(")
		if n == want {
			return n
		}
	}
	return n
}

// TestReleaseWhenIdleHoldsNoGoroutine: idle actors that release their
// goroutine hold none, and every message sent to them afterwards is handled
// once, in order per sender, as with a goroutine of their own.
func TestReleaseWhenIdleHoldsNoGoroutine(t *testing.T) {
	const actors, senders, perSender = 50, 4, 500
	sys := newTestSystem(t, Config{})
	ctx := testCtx(t)
	refs := make([]*Ref, actors)
	for i := range refs {
		ref, err := sys.Spawn(Props{Kind: "conn", MailboxSize: 8, ReleaseWhenIdle: true, New: func() Actor {
			last := map[int]int{}
			var bad []string
			handled := 0
			return funcActor(func(c *Context) {
				switch m := c.Message().(type) {
				case seqMsg:
					if prev, ok := last[m.sender]; ok && m.seq != prev+1 || !ok && m.seq != 0 {
						bad = append(bad, fmt.Sprintf("sender %d: %d after %d", m.sender, m.seq, prev))
					}
					last[m.sender] = m.seq
					handled++
				case string:
					c.Respond(fmt.Sprint(handled, bad))
				}
			})
		}})
		require.NoError(t, err)
		refs[i] = ref
	}
	require.Zero(t, runningLoops(t, 0), "idle actors still hold goroutines")

	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			for i := range perSender {
				// Bursts and pauses, so actors release and resume often.
				if i%50 == 0 {
					time.Sleep(time.Millisecond)
				}
				for _, ref := range refs {
					if err := ref.Tell(ctx, seqMsg{s, i}); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	for _, ref := range refs {
		got, err := Ask[string](ctx, ref, "report")
		require.NoError(t, err)
		require.Equal(t, fmt.Sprint(senders*perSender, []string(nil)), got, ref.Name())
	}
	require.Zero(t, runningLoops(t, 0), "actors kept their goroutines after the traffic")
}

// TestReleaseWhenIdleNoRelease: without the option each actor keeps its
// goroutine, so the count above measures the option.
func TestReleaseWhenIdleNoRelease(t *testing.T) {
	sys := newTestSystem(t, Config{})
	for range 5 {
		_, err := sys.Spawn(echoProps())
		require.NoError(t, err)
	}
	require.Equal(t, 5, runningLoops(t, 5))
}

// TestReleasedActorIsSupervised: a released actor is restarted after a
// panic, answers health checks, gets its Terminated notices and stops.
func TestReleasedActorIsSupervised(t *testing.T) {
	sys := newTestSystem(t, Config{})
	ctx := testCtx(t)
	got := make(chan Terminated, 1)
	starts := 0
	var mu sync.Mutex
	watcher, err := sys.Spawn(Props{Name: "watcher", ReleaseWhenIdle: true, MaxRetries: -1, New: func() Actor {
		mu.Lock()
		starts++
		mu.Unlock()
		return funcActor(func(c *Context) {
			switch m := c.Message().(type) {
			case Terminated:
				got <- m
			case string:
				if m == "panic" {
					panic("test")
				}
				c.Respond(m)
			}
		})
	}})
	require.NoError(t, err)
	require.Zero(t, runningLoops(t, 0))

	require.NoError(t, watcher.Tell(ctx, "panic"))
	v, err := Ask[string](ctx, watcher, "after")
	require.NoError(t, err)
	require.Equal(t, "after", v)
	mu.Lock()
	require.Equal(t, 2, starts, "restarted once")
	mu.Unlock()

	require.Zero(t, runningLoops(t, 0))
	require.NoError(t, watcher.Ping(ctx))

	target, err := sys.Spawn(echoProps())
	require.NoError(t, err)
	target.Watch(watcher)
	require.NoError(t, target.Stop(ctx))
	require.Equal(t, Terminated{Ref: target}, recv(t, got))

	require.Zero(t, runningLoops(t, 0))
	require.NoError(t, watcher.Stop(ctx))
	<-watcher.Done()
	require.True(t, errors.Is(watcher.Tell(ctx, "late"), ErrStopped))
}

// TestAfterStop: the callbacks run once the actor has stopped, whether they
// were registered before or after.
func TestAfterStop(t *testing.T) {
	sys := newTestSystem(t, Config{})
	ref, err := sys.Spawn(echoProps())
	require.NoError(t, err)
	calls := make(chan string, 2)
	ref.AfterStop(func() {
		select {
		case <-ref.Done():
			t.Error("called after Done was closed; want before, on the stopping goroutine")
		default:
		}
		calls <- "before"
	})
	require.Empty(t, calls, "called while the actor runs")
	require.NoError(t, ref.Stop(testCtx(t)))
	require.Equal(t, "before", recv(t, calls))
	ref.AfterStop(func() { calls <- "after" })
	require.Equal(t, "after", recv(t, calls))
}
