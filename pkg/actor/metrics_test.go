package actor

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// collect returns every int64 sum or gauge data point and histogram count
// by "instrument/kind[/reason]".
func collect(t *testing.T, reader *sdkmetric.ManualReader) map[string]int64 {
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	out := map[string]int64{}
	key := func(name string, attrs attribute.Set) string {
		k := name
		if v, ok := attrs.Value("kind"); ok {
			k += "/" + v.AsString()
		}
		if v, ok := attrs.Value("reason"); ok {
			k += "/" + v.AsString()
		}
		return k
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					out[key(m.Name, p.Attributes)] = p.Value
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					out[key(m.Name, p.Attributes)] = p.Value
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					out[key(m.Name, p.Attributes)] = int64(p.Count)
				}
			}
		}
	}
	return out
}

func TestMetrics(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer provider.Shutdown(context.Background())
	sys := newTestSystem(t, Config{Meter: provider.Meter("test")})
	var rec recorder
	entered, gate := make(chan struct{}, 1), make(chan struct{})
	var crashed bool
	sup, err := sys.SpawnSupervisor(SupervisorProps{Backoff: Backoff{Min: time.Millisecond}})
	require.NoError(t, err)
	ref, err := sup.Spawn(Props{Kind: "room", MailboxSize: 4, Overflow: DropNewest, New: func() Actor {
		inner := gated(&rec, entered, gate)()
		return funcActor(func(c *Context) {
			if c.Message() == "crash" && !crashed {
				crashed = true
				panic("crash")
			}
			inner.Receive(c)
		})
	}})
	require.NoError(t, err)
	ctx := testCtx(t)
	require.NoError(t, ref.Tell(ctx, "block"))
	recv(t, entered)
	for _, m := range []string{"crash", "a", "b", "c", "dropped"} {
		require.NoError(t, ref.Tell(ctx, m))
	}
	require.Equal(t, int64(4), collect(t, reader)["actor.mailbox.depth/room"])
	close(gate)
	require.Eventually(t, func() bool { return ref.user.len() == 0 }, 5*time.Second, time.Millisecond)
	_, err = ref.Ask(ctx, "sync")
	require.NoError(t, err)
	require.NoError(t, ref.Stop(ctx)) // flushes the handled count

	got := collect(t, reader)
	require.Equal(t, int64(5), got["actor.messages.handled/room"]) // block a b c sync
	require.Equal(t, int64(1), got["actor.restarts/room"])
	require.Equal(t, int64(1), got["actor.dead_letters/room/dropped"])
	// "crash" is not Idempotent: not retried, a poison dead letter.
	require.Equal(t, int64(1), got["actor.dead_letters/room/poison"])
	// Sampled: the first message, one in 64 after it, and retries (none).
	require.Equal(t, int64(1), got["actor.processing.duration/room"])
}
