package actor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// lifecycle is a test actor that logs its starts and stops and panics on
// "crash" while the shared crash flag is set.
type lifecycle struct {
	name  string
	rec   *recorder
	crash *atomic.Bool
}

func (a *lifecycle) Started(*Context) error { a.rec.add("start " + a.name); return nil }
func (a *lifecycle) Stopped(*Context)       { a.rec.add("stop " + a.name) }
func (a *lifecycle) Receive(c *Context) {
	if c.Message() == "crash" && a.crash.Swap(false) {
		panic("crash " + a.name)
	}
	c.Respond(a.name)
}

func lifecycleProps(name string, rec *recorder, crash *atomic.Bool) Props {
	return Props{Name: name, New: func() Actor { return &lifecycle{name, rec, crash} }}
}

func TestStrategies(t *testing.T) {
	fast := Backoff{Min: time.Millisecond, Max: time.Millisecond}
	for _, tc := range []struct {
		strategy Strategy
		log      []string
		children []string
	}{
		{OneForOne, []string{"start B"}, []string{"B"}},
		{AllForOne, []string{"stop C", "stop A", "start A", "start B", "start C"}, []string{"A", "B", "C"}},
		{RestForOne, []string{"stop C", "start B", "start C"}, []string{"B", "C"}},
	} {
		t.Run(fmt.Sprint(tc.strategy), func(t *testing.T) {
			sys := newTestSystem(t, Config{})
			restarted := events[Restarted](t, sys)
			var rec recorder
			var crash atomic.Bool
			sup, err := sys.SpawnSupervisor(SupervisorProps{Name: "sup", Strategy: tc.strategy, Backoff: fast,
				Children: []Props{lifecycleProps("A", &rec, &crash), lifecycleProps("B", &rec, &crash), lifecycleProps("C", &rec, &crash)}})
			require.NoError(t, err)
			ctx := testCtx(t)
			kids := sup.Children()
			require.Len(t, kids, 3)
			for _, k := range kids {
				require.NoError(t, k.Ping(ctx)) // Started has run
			}
			require.Equal(t, []string{"start A", "start B", "start C"}, rec.take())

			crash.Store(true)
			require.NoError(t, kids[1].Tell(ctx, "crash"))
			ev := recv(t, restarted)
			require.Equal(t, "sup", ev.Supervisor)
			require.Equal(t, "B", ev.Failed)
			require.Equal(t, tc.children, ev.Children)
			require.Equal(t, tc.log, rec.take())
			for i, k := range kids { // same refs, still answering
				name, err := Ask[string](ctx, k, "who")
				require.NoError(t, err)
				require.Equal(t, string(rune('A'+i)), name)
			}
		})
	}
}

func (s Strategy) String() string {
	return [...]string{"one-for-one", "all-for-one", "rest-for-one"}[s]
}

func TestQueuedBeforeCrashProcessedAfterRestart(t *testing.T) {
	sys := newTestSystem(t, Config{})
	var rec recorder
	var starts atomic.Int32
	entered, gate := make(chan struct{}, 1), make(chan struct{})
	var crashed atomic.Bool
	sup, err := sys.SpawnSupervisor(SupervisorProps{Backoff: Backoff{Min: time.Millisecond}})
	require.NoError(t, err)
	ref, err := sup.Spawn(Props{New: func() Actor {
		starts.Add(1)
		return funcActor(func(c *Context) {
			switch c.Message() {
			case "block":
				entered <- struct{}{}
				<-gate
			case idem("crash"):
				if !crashed.Swap(true) {
					panic("once")
				}
			}
			rec.add(fmt.Sprint(c.Message()))
			c.Respond(nil)
		})
	}})
	require.NoError(t, err)
	ctx := testCtx(t)
	require.NoError(t, ref.Tell(ctx, "block"))
	recv(t, entered)
	require.NoError(t, ref.Tell(ctx, idem("crash"))) // retried first after the restart
	for _, m := range []string{"m1", "m2", "m3"} {
		require.NoError(t, ref.Tell(ctx, m))
	}
	close(gate)
	_, err = ref.Ask(ctx, "sync")
	require.NoError(t, err)
	require.Equal(t, []string{"block", "crash", "m1", "m2", "m3", "sync"}, rec.take())
	require.Equal(t, int32(2), starts.Load())
}

func TestPoisonMessage(t *testing.T) {
	var panics atomic.Int32
	sys := newTestSystem(t, Config{OnPanic: func(kind string, v any, stack []byte) {
		if kind == "poisoned" && v == "boom" && len(stack) > 0 {
			panics.Add(1)
		}
	}})
	dead := events[DeadLetter](t, sys)
	var rec recorder
	attempts := make(chan int, 10)
	sup, err := sys.SpawnSupervisor(SupervisorProps{MaxRestarts: 20, Backoff: Backoff{Min: time.Millisecond}})
	require.NoError(t, err)
	ref, err := sup.Spawn(Props{Kind: "poisoned", Name: "p", MaxRetries: 2, New: func() Actor {
		return funcActor(func(c *Context) {
			if c.Message() == idem("poison") {
				attempts <- c.Attempt()
				panic("boom")
			}
			rec.add(fmt.Sprint(c.Message()))
			c.Respond("ok")
		})
	}})
	require.NoError(t, err)
	ctx := testCtx(t)
	require.NoError(t, ref.Tell(ctx, idem("poison")))
	require.NoError(t, ref.Tell(ctx, "next"))
	dl := recv(t, dead)
	require.Equal(t, "p", dl.Target)
	require.Equal(t, idem("poison"), dl.Message)
	require.Equal(t, ReasonPoison, dl.Reason)
	var pe *PanicError
	require.ErrorAs(t, dl.Err, &pe)
	require.Equal(t, "boom", pe.Value)
	require.Equal(t, []int{0, 1, 2}, []int{<-attempts, <-attempts, <-attempts})
	require.Equal(t, int32(3), panics.Load())

	_, err = ref.Ask(ctx, "sync")
	require.NoError(t, err)
	require.Equal(t, []string{"next", "sync"}, rec.take())

	_, err = ref.Ask(ctx, idem("poison")) // an asker learns about the poison
	require.ErrorAs(t, err, &pe)
}

func TestStartedErrorRestartsThenRootGivesUp(t *testing.T) {
	sys := newTestSystem(t, Config{})
	escalated := events[Escalated](t, sys)
	var starts atomic.Int32
	got := make(chan Terminated, 1)
	watcher, err := sys.Spawn(Props{New: func() Actor {
		return funcActor(func(c *Context) { got <- c.Message().(Terminated) })
	}})
	require.NoError(t, err)
	ref, err := sys.Spawn(Props{Name: "flaky", New: func() Actor { return startFails{&starts} }})
	require.NoError(t, err)
	ref.Watch(watcher)
	term := recv(t, got)
	require.Equal(t, ref, term.Ref)
	require.ErrorIs(t, term.Reason, ErrTooManyRestarts)
	require.ErrorIs(t, term.Reason, errStart)
	require.Equal(t, int32(6), starts.Load(), "first start and 5 restarts")
	require.Equal(t, Escalated{Supervisor: "root", Failed: "flaky", Err: errStart}, recv(t, escalated))
	require.Empty(t, sys.Root().Children()[1:])
}

var errStart = errors.New("cannot load state")

type startFails struct{ n *atomic.Int32 }

func (s startFails) Started(*Context) error { s.n.Add(1); return errStart }
func (startFails) Receive(*Context)         {}

func TestEscalation(t *testing.T) {
	sys := newTestSystem(t, Config{})
	restarted := events[Restarted](t, sys)
	escalated := events[Escalated](t, sys)
	fast := Backoff{Min: time.Millisecond, Max: time.Millisecond}
	parent, err := sys.SpawnSupervisor(SupervisorProps{Name: "parent", Backoff: fast})
	require.NoError(t, err)
	var rec recorder
	var crashes atomic.Int32
	child, err := parent.SpawnSupervisor(SupervisorProps{Name: "child", MaxRestarts: 1, Within: time.Hour, Backoff: fast,
		Children: []Props{{Name: "x", MaxRetries: 5, New: func() Actor {
			rec.add("start x")
			return funcActor(func(c *Context) {
				if c.Message() == idem("boom") && crashes.Add(1) <= 2 {
					panic("boom")
				}
				rec.add(fmt.Sprint(c.Message()))
				c.Respond(nil)
			})
		}}, lifecycleProps("y", &rec, new(atomic.Bool))}})
	require.NoError(t, err)
	x := child.Children()[0]
	ctx := testCtx(t)
	require.NoError(t, x.Ping(ctx))
	require.NoError(t, child.Children()[1].Ping(ctx))
	rec.take()

	require.NoError(t, x.Tell(ctx, idem("boom")))
	ev := recv(t, restarted) // first failure: within the child's intensity
	require.Equal(t, Restarted{Supervisor: "child", Failed: "x", Children: []string{"x"}, Err: ev.Err, Delay: ev.Delay}, ev)
	esc := recv(t, escalated) // second failure: 2 > MaxRestarts
	require.Equal(t, "child", esc.Supervisor)
	require.Equal(t, "x", esc.Failed)
	ev = recv(t, restarted) // the parent restarts the whole child supervisor
	require.Equal(t, "parent", ev.Supervisor)
	require.Equal(t, "child", ev.Failed)
	require.ErrorIs(t, ev.Err, ErrTooManyRestarts)

	_, err = x.Ask(ctx, "sync")
	require.NoError(t, err)
	log := rec.take()
	// x handles its retried message as soon as it is back, maybe before y
	// is; the restarts themselves are ordered.
	require.Contains(t, log, "boom")
	require.Equal(t, []string{"start x", "stop y", "start x", "start y", "sync"},
		slices.DeleteFunc(log, func(s string) bool { return s == "boom" }))

	// The child's intensity window was reset by the restart.
	crashes.Store(1)
	require.NoError(t, x.Tell(ctx, idem("boom")))
	require.Equal(t, "child", recv(t, restarted).Supervisor)
}

func TestBackoffDelay(t *testing.T) {
	b := Backoff{Min: 10 * time.Millisecond, Max: 100 * time.Millisecond, Jitter: 0.2}
	for attempt, want := range []time.Duration{10, 20, 40, 80, 100, 100} {
		require.Equal(t, want*time.Millisecond, b.Delay(attempt, 0.5), "attempt %d", attempt)
	}
	require.Equal(t, 8*time.Millisecond, b.Delay(0, 0), "jitter down")
	require.Equal(t, 64*time.Millisecond, b.Delay(3, 0))
	require.InDelta(t, 12*time.Millisecond, b.Delay(0, 0.99999), float64(time.Microsecond), "jitter up")
	require.Equal(t, 100*time.Millisecond, b.Delay(4, 0.99999), "capped after jitter")
	require.Equal(t, 100*time.Millisecond, b.Delay(1000, 0.5), "no overflow")
	require.Equal(t, 10*time.Millisecond, Backoff{}.Delay(0, 0.5), "zero value means 10ms")
	require.Equal(t, 5*time.Second, Backoff{}.Delay(50, 0.5), "zero value caps at 5s")
	require.Equal(t, time.Millisecond, Backoff{Min: time.Millisecond, Jitter: -1}.Delay(0, 0), "negative jitter means none")
}

func TestSupervisorBackoffGrowsAndIsCapped(t *testing.T) {
	sys := newTestSystem(t, Config{jitter: func() float64 { return 0.5 }})
	restarted := events[Restarted](t, sys)
	sup, err := sys.SpawnSupervisor(SupervisorProps{MaxRestarts: 10,
		Backoff: Backoff{Min: time.Millisecond, Max: 4 * time.Millisecond}})
	require.NoError(t, err)
	ref, err := sup.Spawn(Props{MaxRetries: -1, New: func() Actor {
		return funcActor(func(*Context) { panic("always") })
	}})
	require.NoError(t, err)
	var delays []time.Duration
	for range 5 {
		require.NoError(t, ref.Tell(testCtx(t), "crash"))
		delays = append(delays, recv(t, restarted).Delay)
	}
	ms := time.Millisecond
	require.Equal(t, []time.Duration{ms, 2 * ms, 4 * ms, 4 * ms, 4 * ms}, delays)
}

func TestIntensityWindowUsesClock(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	sys := newTestSystem(t, Config{now: func() time.Time { return time.Unix(0, now.Load()) }})
	restarted := events[Restarted](t, sys)
	escalated := events[Escalated](t, sys)
	sup, err := sys.SpawnSupervisor(SupervisorProps{MaxRestarts: 2, Within: time.Minute,
		Backoff: Backoff{Min: time.Microsecond, Max: time.Microsecond}})
	require.NoError(t, err)
	ref, err := sup.Spawn(Props{MaxRetries: -1, New: func() Actor {
		return funcActor(func(*Context) { panic("crash") })
	}})
	require.NoError(t, err)
	ctx := testCtx(t)
	for range 2 {
		require.NoError(t, ref.Tell(ctx, "crash"))
		recv(t, restarted)
	}
	now.Add(int64(time.Minute)) // the earlier restarts leave the window
	for range 2 {
		require.NoError(t, ref.Tell(ctx, "crash"))
		recv(t, restarted)
	}
	require.Empty(t, escalated)
	require.NoError(t, ref.Tell(ctx, "crash"))
	recv(t, escalated)
}

func TestShutdownStopsChildrenLastFirst(t *testing.T) {
	sys := NewSystem(Config{})
	var rec recorder
	var crash atomic.Bool
	_, err := sys.SpawnSupervisor(SupervisorProps{Children: []Props{
		lifecycleProps("A", &rec, &crash), lifecycleProps("B", &rec, &crash)}})
	require.NoError(t, err)
	c, err := sys.Spawn(lifecycleProps("C", &rec, &crash))
	require.NoError(t, err)
	require.NoError(t, c.Ping(testCtx(t)))
	require.NoError(t, sys.Shutdown(testCtx(t)))
	log := rec.take()
	require.Equal(t, []string{"stop C", "stop B", "stop A"}, log[len(log)-3:])
	_, err = sys.Spawn(echoProps())
	require.ErrorIs(t, err, ErrStopped)
	require.NoError(t, sys.Shutdown(context.Background()), "idempotent")
}
