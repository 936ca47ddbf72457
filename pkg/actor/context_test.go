package actor

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// TestExpiredAskNeverProcessed: Asks whose context ended while they were
// queued behind a slow message are never handed to Receive; they become
// "expired" dead letters, are counted, and their askers get the context's
// error.
func TestExpiredAskNeverProcessed(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer provider.Shutdown(context.Background())
	sys := newTestSystem(t, Config{Meter: provider.Meter("test")})
	dead := events[DeadLetter](t, sys)
	var rec recorder
	entered, gate := make(chan struct{}, 1), make(chan struct{})
	ref, err := sys.Spawn(Props{Kind: "room", Name: "r", New: gated(&rec, entered, gate)})
	require.NoError(t, err)
	ctx := testCtx(t)
	require.NoError(t, ref.Tell(ctx, "block"))
	recv(t, entered)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = ref.Ask(cancelled, "cancelled")
	require.ErrorIs(t, err, context.Canceled)

	expiring, cancel2 := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel2()
	_, err = ref.Ask(expiring, "expiring")
	require.ErrorIs(t, err, context.DeadlineExceeded)

	// A forwarded Ask expires at its target the same way.
	live, cancel3 := context.WithCancel(ctx)
	errc := make(chan error, 1)
	router, err := sys.Spawn(Props{New: func() Actor {
		return funcActor(func(c *Context) {
			if err := c.Forward(ref); err != nil {
				c.Respond(err)
			}
		})
	}})
	require.NoError(t, err)
	go func() { _, err := router.Ask(live, "forwarded"); errc <- err }()
	require.Eventually(t, func() bool { return ref.user.len() == 3 }, 5*time.Second, time.Millisecond)
	cancel3()
	require.ErrorIs(t, recv(t, errc), context.Canceled)

	close(gate)
	got, err := Ask[string](ctx, ref, "sync")
	require.NoError(t, err)
	require.Equal(t, "sync", got)
	require.Equal(t, []string{"block", "sync"}, rec.take(), "expired Asks are never handled")
	for _, want := range []struct {
		msg string
		err error
	}{{"cancelled", context.Canceled}, {"expiring", context.DeadlineExceeded}, {"forwarded", context.Canceled}} {
		require.Equal(t, DeadLetter{Target: "r", Message: want.msg, Reason: ReasonExpired, Err: want.err}, recv(t, dead))
	}
	require.Equal(t, int64(3), collect(t, reader)["actor.dead_letters/room/expired"])
}

// TestAskHandlerSeesAskerContext: the handler of an Ask sees the asker's
// context itself: its values, its deadline and its cancellation.
func TestAskHandlerSeesAskerContext(t *testing.T) {
	type key struct{}
	sys := newTestSystem(t, Config{})
	entered := make(chan struct{}, 1)
	seen := make(chan error, 1)
	ref, err := sys.Spawn(Props{New: func() Actor {
		return funcActor(func(c *Context) {
			ctx := c.Context()
			_, hasDeadline := ctx.Deadline()
			if ctx.Value(key{}) != "v" || !hasDeadline {
				seen <- context.Cause(ctx) // fails the test below
				return
			}
			entered <- struct{}{}
			<-ctx.Done() // the asker gives up: stop working
			seen <- ctx.Err()
			c.Respond(ctx.Err()) // whichever wins, the asker sees Canceled
		})
	}})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.WithValue(testCtx(t), key{}, "v"), time.Minute)
	errc := make(chan error, 1)
	go func() { _, err := ref.Ask(ctx, "work"); errc <- err }()
	recv(t, entered)
	cancel()
	require.ErrorIs(t, recv(t, seen), context.Canceled)
	require.ErrorIs(t, recv(t, errc), context.Canceled)
}

// TestTellOutlivesItsContext: a Tell told with a request's context that is
// cancelled right after is still handled, with the context's values and
// without its cancellation.
func TestTellOutlivesItsContext(t *testing.T) {
	type key struct{}
	sys := newTestSystem(t, Config{})
	var rec recorder
	entered, gate := make(chan struct{}, 1), make(chan struct{})
	type seenCtx struct {
		v   any
		err error
	}
	seen := make(chan seenCtx, 1)
	inner := gated(&rec, entered, gate)()
	ref, err := sys.Spawn(Props{New: func() Actor {
		return funcActor(func(c *Context) {
			if c.Message() == "note" {
				seen <- seenCtx{c.Context().Value(key{}), c.Context().Err()}
			}
			inner.Receive(c)
		})
	}})
	require.NoError(t, err)
	ctx := testCtx(t)
	require.NoError(t, ref.Tell(ctx, "block"))
	recv(t, entered)
	reqCtx, cancel := context.WithCancel(context.WithValue(ctx, key{}, "trace"))
	require.NoError(t, ref.Tell(reqCtx, "note"))
	cancel() // the request returned
	close(gate)
	require.Equal(t, seenCtx{v: "trace"}, recv(t, seen))
	_, err = ref.Ask(ctx, "sync")
	require.NoError(t, err)
	require.Equal(t, []string{"block", "note", "sync"}, rec.take())
}
