package actor

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

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
		require.NoError(t, ref.Tell(ctx, i))
	}
	errc := make(chan error, 1)
	go func() { _, err := ref.Ask(ctx, "q"); errc <- err }()
	require.Eventually(t, func() bool { return ref.user.len() == 7 }, 5*time.Second, time.Millisecond)
	for i := 6; i < 10; i++ {
		require.NoError(t, ref.Tell(ctx, i))
	}
	close(gate)
	require.NoError(t, recv(t, errc))
	_, err = ref.Ask(ctx, "sync")
	require.NoError(t, err)
	require.Equal(t, []string{"batch [0 1 2 3]", "batch [4 5]", "one q", "batch [6 7 8 9]", "one sync"}, rec.take())
}
