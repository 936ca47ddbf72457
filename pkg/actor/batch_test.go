package actor

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// idemInt is a batchable message that may be handled again after a panic.
type idemInt int

func (idemInt) Idempotent() bool { return true }

// batcher logs each batch and each single message; its Started waits for
// gate so the test can queue messages first.
type batcher struct {
	rec   *recorder
	gate  <-chan struct{}
	crash *atomic.Bool
}

func (b *batcher) Started(*Context) error { <-b.gate; return nil }
func (b *batcher) Receive(c *Context) {
	b.rec.add(fmt.Sprint("one ", c.Message()))
	c.Respond(nil)
}
func (b *batcher) ReceiveBatch(c *Context, msgs []any) {
	if c.Message() != nil {
		panic("batch context has no single message")
	}
	if b.crash.Swap(false) {
		panic("batch failed")
	}
	b.rec.add(fmt.Sprint("batch ", msgs))
}

func TestBatchReceive(t *testing.T) {
	sys := newTestSystem(t, Config{})
	var rec recorder
	gate := make(chan struct{})
	var crash atomic.Bool
	crash.Store(true) // the first batch panics once and is retried whole
	sup, err := sys.SpawnSupervisor(SupervisorProps{Backoff: Backoff{Min: time.Millisecond}})
	require.NoError(t, err)
	first := true
	ref, err := sup.Spawn(Props{BatchSize: 4, New: func() Actor {
		g := gate
		if !first {
			g = nil
		}
		first = false
		closed := make(chan struct{})
		close(closed)
		if g == nil {
			g = closed
		}
		return &batcher{&rec, g, &crash}
	}})
	require.NoError(t, err)
	ctx := testCtx(t)
	for i := range 6 {
		require.NoError(t, ref.Tell(ctx, idemInt(i)))
	}
	errc := make(chan error, 1)
	go func() { _, err := ref.Ask(ctx, "q"); errc <- err }()
	require.Eventually(t, func() bool { return ref.user.len() == 7 }, 5*time.Second, time.Millisecond)
	for i := 6; i < 10; i++ {
		require.NoError(t, ref.Tell(ctx, idemInt(i)))
	}
	close(gate)
	require.NoError(t, recv(t, errc))
	_, err = ref.Ask(ctx, "sync")
	require.NoError(t, err)
	require.Equal(t, []string{"batch [0 1 2 3]", "batch [4 5]", "one q", "batch [6 7 8 9]", "one sync"}, rec.take())
}

// TestBatchNotRetriedUnlessAllIdempotent: a batch holding one message that
// is not Idempotent is not retried when ReceiveBatch panics; every message
// of it becomes a poison dead letter, and the next batch is handled.
func TestBatchNotRetriedUnlessAllIdempotent(t *testing.T) {
	sys := newTestSystem(t, Config{})
	dead := events[DeadLetter](t, sys)
	var rec recorder
	gate := make(chan struct{})
	var crash atomic.Bool
	crash.Store(true)
	sup, err := sys.SpawnSupervisor(SupervisorProps{Backoff: Backoff{Min: time.Millisecond}})
	require.NoError(t, err)
	var starts atomic.Int32
	ref, err := sup.Spawn(Props{Name: "b", BatchSize: 3, New: func() Actor {
		g := make(chan struct{})
		close(g)
		if starts.Add(1) == 1 {
			g = gate
		}
		return &batcher{&rec, g, &crash}
	}})
	require.NoError(t, err)
	ctx := testCtx(t)
	for _, m := range []any{idemInt(0), 1, idemInt(2), idemInt(3)} {
		require.NoError(t, ref.Tell(ctx, m))
	}
	close(gate)
	_, err = ref.Ask(ctx, "sync")
	require.NoError(t, err)
	require.Equal(t, []string{"one 3", "one sync"}, rec.take(), "the failed batch is not retried")
	for _, want := range []any{idemInt(0), 1, idemInt(2)} {
		dl := recv(t, dead)
		require.Equal(t, want, dl.Message)
		require.Equal(t, ReasonPoison, dl.Reason)
	}
	require.Equal(t, int32(2), starts.Load())
}
