package actor

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// crashy answers its name and panics on "crash".
func crashy(name string) Props {
	return Props{Name: name, Kind: "room", New: func() Actor {
		return funcActor(func(c *Context) {
			if c.Message() == "crash" {
				panic("crash " + name)
			}
			c.Respond(name)
		})
	}}
}

// TestBackoffIsPerChildAndByTimer: while child A waits out a long backoff
// (its third restart), child B's first crash is restarted after B's own
// first-restart delay, and B serves while A is still down. The supervisor
// does not wait in its loop for A's timer.
func TestBackoffIsPerChildAndByTimer(t *testing.T) {
	const ms = time.Millisecond
	clk := newFakeClock()
	sys := newTestSystem(t, clk.config(Config{}))
	restarted := events[Restarted](t, sys)
	sup, err := sys.SpawnSupervisor(SupervisorProps{Name: "rooms", MaxRestarts: 10, Within: time.Hour,
		Backoff: Backoff{Min: 100 * ms, Max: 10 * time.Second}})
	require.NoError(t, err)
	a, err := sup.Spawn(crashy("A"))
	require.NoError(t, err)
	b, err := sup.Spawn(crashy("B"))
	require.NoError(t, err)
	ctx := testCtx(t)

	for _, delay := range []time.Duration{100 * ms, 200 * ms} { // A's backoff grows
		require.NoError(t, a.Tell(ctx, "crash"))
		require.Equal(t, delay, recv(t, clk.scheduled))
		clk.Advance(delay)
		ev := recv(t, restarted)
		require.Equal(t, "A", ev.Failed)
		require.Equal(t, delay, ev.Delay)
	}
	require.NoError(t, a.Tell(ctx, "crash"))
	require.Equal(t, 400*ms, recv(t, clk.scheduled), "A's third restart waits 400ms")

	require.NoError(t, b.Tell(ctx, "crash"))
	require.Equal(t, 100*ms, recv(t, clk.scheduled), "B's first restart has B's first delay")
	clk.Advance(100 * ms)
	ev := recv(t, restarted)
	require.Equal(t, Restarted{Supervisor: "rooms", Failed: "B", Children: []string{"B"}, Err: ev.Err, Delay: 100 * ms}, ev)
	got, err := Ask[string](ctx, b, "who")
	require.NoError(t, err)
	require.Equal(t, "B", got)
	require.Empty(t, restarted, "A is still waiting for its own backoff")
	require.Equal(t, 1, clk.pending())

	clk.Advance(300 * ms) // A's 400ms are up
	ev = recv(t, restarted)
	require.Equal(t, "A", ev.Failed)
	require.Equal(t, 400*ms, ev.Delay)
	got, err = Ask[string](ctx, a, "who")
	require.NoError(t, err)
	require.Equal(t, "A", got)
}

// slowStart blocks in Started on gate from its second start on.
type slowStart struct {
	starts  *atomic.Int32
	entered chan<- struct{}
	gate    <-chan struct{}
}

func (s slowStart) Started(*Context) error {
	if s.starts.Add(1) > 1 {
		s.entered <- struct{}{}
		<-s.gate
	}
	return nil
}

func (s slowStart) Receive(c *Context) {
	if c.Message() == "crash" {
		panic("crash")
	}
	c.Respond("A")
}

// TestSlowStartedDoesNotDelayOtherRestarts: a child whose Started takes
// long (a store that is slow to answer) does not hold up the restart of
// its siblings.
func TestSlowStartedDoesNotDelayOtherRestarts(t *testing.T) {
	clk := newFakeClock()
	sys := newTestSystem(t, clk.config(Config{}))
	restarted := events[Restarted](t, sys)
	sup, err := sys.SpawnSupervisor(SupervisorProps{Backoff: Backoff{Min: time.Millisecond}})
	require.NoError(t, err)
	var starts atomic.Int32
	entered, gate := make(chan struct{}, 1), make(chan struct{})
	a, err := sup.Spawn(Props{Name: "A", New: func() Actor { return slowStart{&starts, entered, gate} }})
	require.NoError(t, err)
	b, err := sup.Spawn(crashy("B"))
	require.NoError(t, err)
	ctx := testCtx(t)

	require.NoError(t, a.Tell(ctx, "crash"))
	clk.Advance(recv(t, clk.scheduled))
	recv(t, entered) // A's restart is stuck in Started

	require.NoError(t, b.Tell(ctx, "crash"))
	clk.Advance(recv(t, clk.scheduled))
	require.Equal(t, "B", recv(t, restarted).Failed)
	got, err := Ask[string](ctx, b, "who")
	require.NoError(t, err)
	require.Equal(t, "B", got)

	close(gate)
	require.Equal(t, "A", recv(t, restarted).Failed)
	got, err = Ask[string](ctx, a, "who")
	require.NoError(t, err)
	require.Equal(t, "A", got)
}

// TestStopCancelsPendingBackoff: stopping a supervisor whose child waits
// for a restart does not wait for the backoff and cancels its timer.
func TestStopCancelsPendingBackoff(t *testing.T) {
	clk := newFakeClock()
	sys := newTestSystem(t, clk.config(Config{}))
	sup, err := sys.SpawnSupervisor(SupervisorProps{Backoff: Backoff{Min: time.Hour, Max: time.Hour}})
	require.NoError(t, err)
	a, err := sup.Spawn(crashy("A"))
	require.NoError(t, err)
	ctx := testCtx(t)
	require.NoError(t, a.Tell(ctx, "crash"))
	require.Equal(t, time.Hour, recv(t, clk.scheduled))
	require.Equal(t, 1, clk.pending())
	require.NoError(t, sup.Stop(ctx))
	<-a.Done()
	require.Zero(t, clk.pending(), "the backoff timer is stopped")
}

// TestIntensityIsPerChild: a crash storm of one child does not use up the
// restart budget of its siblings; the child that exceeds its own budget
// makes the supervisor escalate.
func TestIntensityIsPerChild(t *testing.T) {
	sys := newTestSystem(t, instant(Config{}))
	restarted := events[Restarted](t, sys)
	escalated := events[Escalated](t, sys)
	top, err := sys.SpawnSupervisor(SupervisorProps{Name: "top"})
	require.NoError(t, err)
	rooms, err := top.SpawnSupervisor(SupervisorProps{Name: "rooms", MaxRestarts: 2, Within: time.Hour,
		Children: []Props{crashy("A"), crashy("B")}})
	require.NoError(t, err)
	kids := rooms.Children()
	a, b := kids[0], kids[1]
	ctx := testCtx(t)
	crash := func(r *Ref) Restarted {
		t.Helper()
		require.NoError(t, r.Tell(ctx, "crash"))
		return recv(t, restarted)
	}
	for range 2 { // A at its budget
		require.Equal(t, "A", crash(a).Failed)
	}
	for range 2 { // B has a budget of its own
		require.Equal(t, "B", crash(b).Failed)
	}
	require.Empty(t, escalated, "4 restarts in the supervisor, at most 2 per child")

	ev := crash(a) // A's third: escalated, and top restarts the rooms supervisor
	esc := recv(t, escalated)
	require.Equal(t, "rooms", esc.Supervisor)
	require.Equal(t, "A", esc.Failed)
	require.Equal(t, "top", ev.Supervisor)
	require.Equal(t, "rooms", ev.Failed)
	require.ErrorIs(t, ev.Err, ErrTooManyRestarts)
	for _, r := range kids {
		got, err := Ask[string](ctx, r, "who")
		require.NoError(t, err)
		require.Equal(t, r.Name(), got)
	}
}

// TestNonIdempotentMessageHandledOnce: a message that is not Idempotent and
// panics after a side effect is handled exactly once; the asker gets the
// *PanicError, the actor is restarted (Started reloads), and the messages
// queued behind it are still handled. An Idempotent message is retried.
func TestNonIdempotentMessageHandledOnce(t *testing.T) {
	sys := newTestSystem(t, instant(Config{}))
	dead := events[DeadLetter](t, sys)
	var saved, starts atomic.Int32
	entered, gate := make(chan struct{}, 1), make(chan struct{})
	sup, err := sys.SpawnSupervisor(SupervisorProps{})
	require.NoError(t, err)
	ref, err := sup.Spawn(Props{Name: "room", New: func() Actor {
		starts.Add(1)
		return funcActor(func(c *Context) {
			switch m := c.Message().(type) {
			case string:
				if m == "block" {
					entered <- struct{}{}
					<-gate
				}
				c.Respond(m)
			case chat, idem:
				saved.Add(1) // the side effect, done before the failure
				if c.Attempt() == 0 {
					panic("lost the connection")
				}
				c.Respond("saved")
			}
		})
	}})
	require.NoError(t, err)
	ctx := testCtx(t)
	require.NoError(t, ref.Tell(ctx, "block"))
	recv(t, entered)
	errc := make(chan error, 1)
	go func() { _, err := ref.Ask(ctx, chat{"hello"}); errc <- err }()
	require.Eventually(t, func() bool { return ref.user.len() == 1 }, 5*time.Second, time.Millisecond)
	require.NoError(t, ref.Tell(ctx, "after")) // queued behind the failing message
	close(gate)

	var pe *PanicError
	require.ErrorAs(t, recv(t, errc), &pe)
	require.Equal(t, "lost the connection", pe.Value)
	dl := recv(t, dead)
	require.Equal(t, DeadLetter{Target: "room", Message: chat{"hello"}, Reason: ReasonPoison, Err: dl.Err}, dl)
	got, err := Ask[string](ctx, ref, "sync")
	require.NoError(t, err)
	require.Equal(t, "sync", got)
	require.Equal(t, int32(1), saved.Load(), "saved once, not again on a retry")
	require.Equal(t, int32(2), starts.Load(), "restarted")

	saved.Store(0)
	got, err = Ask[string](ctx, ref, idem("set"))
	require.NoError(t, err)
	require.Equal(t, "saved", got, "an Idempotent message is retried after the restart")
	require.Equal(t, int32(2), saved.Load())
	require.Empty(t, dead)
}

type chat struct{ text string }

// TestIdempotentFalseIsNotRetried: Idempotent returning false counts as
// not idempotent.
func TestIdempotentFalseIsNotRetried(t *testing.T) {
	require.False(t, retryable([]*envelope{{msg: notIdem{}}}))
	require.False(t, retryable([]*envelope{{msg: idem("a")}, {msg: 1}}))
	require.True(t, retryable([]*envelope{{msg: idem("a")}, {msg: idemInt(1)}}))
}

type notIdem struct{}

func (notIdem) Idempotent() bool { return false }
