package actor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestAskEcho(t *testing.T) {
	sys := newTestSystem(t, Config{})
	ref, err := sys.Spawn(echoProps())
	require.NoError(t, err)
	got, err := Ask[string](testCtx(t), ref, "hi")
	require.NoError(t, err)
	require.Equal(t, "hi", got)

	_, err = Ask[int](testCtx(t), ref, "not an int")
	require.ErrorContains(t, err, "reply is string, want int")
}

func TestAskErrors(t *testing.T) {
	sys := newTestSystem(t, Config{})
	boom := errors.New("boom")
	ref, err := sys.Spawn(Props{New: func() Actor {
		return funcActor(func(c *Context) {
			if c.Message() == "fail" {
				c.Respond(boom)
			}
		})
	}})
	require.NoError(t, err)
	_, err = ref.Ask(testCtx(t), "fail")
	require.ErrorIs(t, err, boom)
	_, err = ref.Ask(testCtx(t), "silent")
	require.ErrorIs(t, err, ErrNoReply)
}

type seqMsg struct{ sender, seq int }

func TestPerSenderOrdering(t *testing.T) {
	const senders, perSender = 4, 2000
	sys := newTestSystem(t, Config{})
	ref, err := sys.Spawn(Props{MailboxSize: 16, New: func() Actor {
		last := map[int]int{}
		var bad []string
		return funcActor(func(c *Context) {
			switch m := c.Message().(type) {
			case seqMsg:
				if prev, ok := last[m.sender]; ok && m.seq != prev+1 {
					bad = append(bad, fmt.Sprintf("sender %d: %d after %d", m.sender, m.seq, prev))
				}
				last[m.sender] = m.seq
			case string:
				c.Respond(bad)
			}
		})
	}})
	require.NoError(t, err)
	ctx := testCtx(t)
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			for i := range perSender {
				if err := ref.Tell(ctx, seqMsg{s, i}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	bad, err := Ask[[]string](ctx, ref, "report")
	require.NoError(t, err)
	require.Empty(t, bad)
}

// gated returns an actor that blocks on "block" until gate is closed,
// signalling entered first, and records every message it handles.
func gated(rec *recorder, entered chan<- struct{}, gate <-chan struct{}) func() Actor {
	return func() Actor {
		return funcActor(func(c *Context) {
			m := fmt.Sprint(c.Message())
			if m == "block" {
				entered <- struct{}{}
				<-gate
			}
			rec.add(m)
			c.Respond(m)
		})
	}
}

func TestAskTimeoutAndLateReply(t *testing.T) {
	sys := newTestSystem(t, Config{})
	var rec recorder
	entered, gate := make(chan struct{}, 1), make(chan struct{})
	ref, err := sys.Spawn(Props{New: gated(&rec, entered, gate)})
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = ref.Ask(ctx, "block")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorIs(t, err, ErrTimeout)
	recv(t, entered)
	close(gate) // the actor now replies to an asker that is gone

	got, err := Ask[string](testCtx(t), ref, "next")
	require.NoError(t, err)
	require.Equal(t, "next", got, "a late reply must not reach a later Ask")
	require.Equal(t, []string{"block", "next"}, rec.take())
}

// TestAskRacingDeadlines hammers the reply slot reuse: every Ask that
// succeeds must get the reply to its own message.
func TestAskRacingDeadlines(t *testing.T) {
	sys := newTestSystem(t, Config{})
	ref, err := sys.Spawn(echoProps())
	require.NoError(t, err)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%7)*time.Microsecond)
				want := g*10000 + i
				got, err := Ask[int](ctx, ref, want)
				cancel()
				if err == nil && got != want {
					t.Errorf("got reply %d for %d", got, want)
				}
			}
		})
	}
	wg.Wait()
}

func TestOverflow(t *testing.T) {
	for _, policy := range []Overflow{Block, FailFast, DropNewest} {
		t.Run(policy.String(), func(t *testing.T) {
			sys := newTestSystem(t, Config{})
			dead := events[DeadLetter](t, sys)
			var rec recorder
			entered, gate := make(chan struct{}, 1), make(chan struct{})
			ref, err := sys.Spawn(Props{Name: "full", MailboxSize: 2, Overflow: policy, New: gated(&rec, entered, gate)})
			require.NoError(t, err)
			ctx := testCtx(t)
			require.NoError(t, ref.Tell(ctx, "block"))
			recv(t, entered)
			require.NoError(t, ref.Tell(ctx, "a"))
			require.NoError(t, ref.Tell(ctx, "b")) // the mailbox is now full

			short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
			defer cancel()
			switch policy {
			case Block:
				require.ErrorIs(t, ref.Tell(short, "c"), context.DeadlineExceeded)
				errc := make(chan error, 1)
				go func() { errc <- ref.Tell(ctx, "d") }()
				close(gate)
				require.NoError(t, recv(t, errc))
			case FailFast:
				require.ErrorIs(t, ref.Tell(ctx, "c"), ErrMailboxFull)
				_, err := ref.Ask(ctx, "c")
				require.ErrorIs(t, err, ErrMailboxFull)
				close(gate)
			case DropNewest:
				require.NoError(t, ref.Tell(ctx, "c"))
				dl := recv(t, dead)
				require.Equal(t, DeadLetter{Target: "full", Message: "c", Reason: ReasonDropped, Err: ErrMailboxFull}, dl)
				_, err := ref.Ask(ctx, "c")
				require.ErrorIs(t, err, ErrMailboxFull)
				close(gate)
			}
			require.Eventually(t, func() bool { return ref.user.len() == 0 }, 5*time.Second, time.Millisecond)
			_, err = ref.Ask(ctx, "sync")
			require.NoError(t, err)
			want := []string{"block", "a", "b", "sync"}
			if policy == Block {
				want = []string{"block", "a", "b", "d", "sync"}
			}
			require.Equal(t, want, rec.take())
		})
	}
}

func TestSystemLaneBeforeFullUserLane(t *testing.T) {
	t.Run("ping", func(t *testing.T) {
		sys := newTestSystem(t, Config{})
		gate1, gate2 := make(chan struct{}), make(chan struct{})
		entered := make(chan struct{}, 1)
		ref, err := sys.Spawn(Props{MailboxSize: 3, Overflow: FailFast, New: func() Actor {
			return funcActor(func(c *Context) {
				if c.Message() == 1 {
					entered <- struct{}{}
					<-gate1
				} else {
					<-gate2
				}
			})
		}})
		require.NoError(t, err)
		ctx := testCtx(t)
		require.NoError(t, ref.Tell(ctx, 1))
		recv(t, entered)
		for i := 2; i <= 4; i++ { // queued behind 1
			require.NoError(t, ref.Tell(ctx, i))
		}
		require.ErrorIs(t, ref.Tell(ctx, 5), ErrMailboxFull)
		ack := make(chan error, 1)
		ref.postSystem(sysMsg{kind: sysPing, reply: func(err error) { ack <- err }})
		close(gate1)
		// Message 2 blocks on gate2, so the ping is answered only if it
		// was read before the queued user messages.
		require.NoError(t, recv(t, ack))
		close(gate2)
		require.NoError(t, ref.Ping(ctx))
	})
	t.Run("stop", func(t *testing.T) {
		sys := newTestSystem(t, Config{})
		dead := events[DeadLetter](t, sys)
		var rec recorder
		entered, gate := make(chan struct{}, 1), make(chan struct{})
		ref, err := sys.Spawn(Props{MailboxSize: 3, New: gated(&rec, entered, gate)})
		require.NoError(t, err)
		ctx := testCtx(t)
		require.NoError(t, ref.Tell(ctx, "block"))
		recv(t, entered)
		for _, m := range []string{"a", "b", "c"} {
			require.NoError(t, ref.Tell(ctx, m))
		}
		ref.postSystem(sysMsg{kind: sysStop})
		close(gate)
		<-ref.Done()
		require.Equal(t, []string{"block"}, rec.take())
		for _, m := range []string{"a", "b", "c"} {
			require.Equal(t, DeadLetter{Target: ref.Name(), Message: m, Reason: ReasonStopped, Err: ErrStopped}, recv(t, dead))
		}
		require.ErrorIs(t, ref.Tell(ctx, "late"), ErrStopped)
		require.Equal(t, ReasonStopped, recv(t, dead).Reason)
		_, err = ref.Ask(ctx, "late")
		require.ErrorIs(t, err, ErrStopped)
		require.ErrorIs(t, ref.Ping(ctx), ErrStopped)
		require.NoError(t, ref.Stop(ctx), "stopping twice is fine")
	})
}

func TestPriorityLane(t *testing.T) {
	sys := newTestSystem(t, Config{})
	var rec recorder
	entered, gate := make(chan struct{}, 1), make(chan struct{})
	ref, err := sys.Spawn(Props{PriorityLane: true, New: gated(&rec, entered, gate)})
	require.NoError(t, err)
	ctx := testCtx(t)
	require.NoError(t, ref.Tell(ctx, "block"))
	recv(t, entered)
	require.NoError(t, ref.Tell(ctx, "u1"))
	require.NoError(t, ref.Tell(ctx, "u2"))
	require.NoError(t, ref.TellPriority(ctx, "p1"))
	close(gate)
	_, err = ref.Ask(ctx, "sync")
	require.NoError(t, err)
	require.Equal(t, []string{"block", "p1", "u1", "u2", "sync"}, rec.take())
}

func TestAskPendingWhenStopped(t *testing.T) {
	sys := newTestSystem(t, Config{})
	var rec recorder
	entered, gate := make(chan struct{}, 1), make(chan struct{})
	ref, err := sys.Spawn(Props{New: gated(&rec, entered, gate)})
	require.NoError(t, err)
	ctx := testCtx(t)
	require.NoError(t, ref.Tell(ctx, "block"))
	recv(t, entered)
	errc := make(chan error, 1)
	go func() { _, err := ref.Ask(ctx, "queued"); errc <- err }()
	require.Eventually(t, func() bool { return ref.user.len() == 1 }, 5*time.Second, time.Millisecond)
	stopped := make(chan error, 1)
	go func() { stopped <- ref.Stop(ctx) }()
	require.Eventually(t, func() bool { return ref.sysN.Load() == 1 }, 5*time.Second, time.Millisecond)
	close(gate)
	require.NoError(t, recv(t, stopped))
	require.ErrorIs(t, recv(t, errc), ErrStopped)
}

func TestContextStopAndValues(t *testing.T) {
	type key struct{}
	sys := newTestSystem(t, Config{})
	got := make(chan any, 1)
	ref, err := sys.Spawn(Props{New: func() Actor {
		return funcActor(func(c *Context) {
			ctx := c.Context()
			got <- ctx.Value(key{})
			if ctx.Err() != nil {
				got <- ctx.Err()
			}
			c.Stop()
		})
	}})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	cancel() // the message is still handled: cancellation is not carried
	require.NoError(t, ref.Tell(ctx, "m"))
	require.Equal(t, "v", recv(t, got))
	<-ref.Done()
	require.Empty(t, got)
}

func TestWatch(t *testing.T) {
	sys := newTestSystem(t, Config{})
	got := make(chan Terminated, 2)
	watcher, err := sys.Spawn(Props{Name: "watcher", New: func() Actor {
		return funcActor(func(c *Context) {
			if m, ok := c.Message().(Terminated); ok {
				got <- m
			}
		})
	}})
	require.NoError(t, err)
	target, err := sys.Spawn(echoProps())
	require.NoError(t, err)
	target.Watch(watcher)
	require.NoError(t, target.Stop(testCtx(t)))
	require.Equal(t, Terminated{Ref: target}, recv(t, got))

	target.Watch(watcher) // already stopped: notified at once
	require.Equal(t, Terminated{Ref: target}, recv(t, got))

	other, err := sys.Spawn(echoProps())
	require.NoError(t, err)
	other.Watch(watcher)
	other.Unwatch(watcher)
	require.NoError(t, other.Stop(testCtx(t)))
	require.NoError(t, watcher.Ping(testCtx(t)))
	require.Empty(t, got)
}
