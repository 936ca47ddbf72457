package track_test

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"
	"google.golang.org/protobuf/proto"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/store/storetest"
	"github.com/pianorhythm/server/pkg/track"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(storetest.Wrap(m))
}

func TestEmitWritesDecodableEventsWithTraceContext(t *testing.T) {
	ctx := context.Background()
	c := storetest.Redis(t)
	stream := storetest.Prefix(t) + "analytics:events"
	e := track.NewEmitter(c, track.Config{Stream: stream})

	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		SpanID:     trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8},
		TraceFlags: trace.FlagsSampled,
	})
	traced := trace.ContextWithSpanContext(ctx, sc)

	e.Emit(traced, &pb.Event{Type: pb.EventType_EVENT_TYPE_ROOM_JOINED, UserId: "u1", RoomId: "lobby"})
	e.Emit(ctx, &pb.Event{Id: "given-id", UserId: "u2", Count: 7})
	require.NoError(t, e.Close(ctx))
	require.Zero(t, e.Dropped())

	msgs, err := c.XRange(ctx, stream, "-", "+").Result()
	require.NoError(t, err)
	require.Len(t, msgs, 2)
	got := make([]*pb.Event, len(msgs))
	for i, m := range msgs {
		got[i] = &pb.Event{}
		require.NoError(t, proto.Unmarshal([]byte(m.Values[track.FieldEvent].(string)), got[i]))
		require.Equal(t, got[i].Id, m.Values[track.FieldID])
	}

	require.NotEmpty(t, got[0].Id, "id filled")
	require.NotNil(t, got[0].At, "at filled")
	require.WithinDuration(t, time.Now(), got[0].At.AsTime(), time.Minute)
	require.Equal(t, pb.EventType_EVENT_TYPE_ROOM_JOINED, got[0].Type)
	require.Equal(t, "lobby", got[0].RoomId)
	require.Equal(t, "00-0102030405060708090a0b0c0d0e0f10-0102030405060708-01", got[0].Trace["traceparent"])

	require.Equal(t, "given-id", got[1].Id, "id kept")
	require.EqualValues(t, 7, got[1].Count)
	require.Empty(t, got[1].Trace, "no span, no trace context")
}

func TestEmitDropsWithoutBlockingWhenFull(t *testing.T) {
	// A server that accepts and never answers: the first write hangs, so
	// the queue fills.
	addr := blackHole(t)
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	e := track.NewEmitter(c, track.Config{
		Stream: storetest.Prefix(t) + "s", Buffer: 4, WriteTimeout: 300 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler), // the expected "not reaching redis" warning
	})

	const n = 1000
	start := time.Now()
	for range n {
		e.Emit(context.Background(), &pb.Event{UserId: "u"})
	}
	took := time.Since(start)
	t.Logf("%d emits with a stuck redis took %v, dropped %d", n, took, e.Dropped())
	require.Less(t, took, 2*time.Second, "Emit blocked")
	// At most the buffer plus the one batch in flight got through Emit.
	require.GreaterOrEqual(t, e.Dropped(), int64(n-4-128))

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start = time.Now()
	err := e.Close(ctx)
	took = time.Since(start)
	t.Logf("close took %v", took)
	require.Less(t, took, 2*time.Second, "close: ctx 200ms + write timeout 300ms")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.EqualValues(t, n, e.Dropped(), "every event counted as dropped")

	e.Emit(context.Background(), &pb.Event{})
	require.EqualValues(t, n+1, e.Dropped(), "emit after close is dropped")
	require.NoError(t, e.Close(context.Background()), "second close")
}

func TestCloseWaitsForQueuedEvents(t *testing.T) {
	ctx := context.Background()
	c := storetest.Redis(t)
	stream := storetest.Prefix(t) + "s"
	e := track.NewEmitter(c, track.Config{Stream: stream, Buffer: 5000})

	const n = 2000
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for range n / 4 {
				e.Emit(ctx, &pb.Event{UserId: string(rune('a' + g))})
			}
		})
	}
	wg.Wait()
	require.NoError(t, e.Close(ctx))
	require.Zero(t, e.Dropped())
	l, err := c.XLen(ctx, stream).Result()
	require.NoError(t, err)
	require.EqualValues(t, n, l, "stream length right after Close")
}

func TestStreamIsCapped(t *testing.T) {
	ctx := context.Background()
	_, c := storetest.MiniRedis(t) // trims exactly; real Redis trims "~" in whole nodes of ~100 entries
	e := track.NewEmitter(c, track.Config{Stream: "s", MaxLen: 10})
	for range 50 {
		e.Emit(ctx, &pb.Event{})
	}
	require.NoError(t, e.Close(ctx))
	l, err := c.XLen(ctx, "s").Result()
	require.NoError(t, err)
	require.LessOrEqual(t, l, int64(10))
}

// blackHole listens on loopback, accepts connections and never replies.
func blackHole(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Go(func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
		}
	})
	t.Cleanup(func() {
		_ = l.Close()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return l.Addr().String()
}
