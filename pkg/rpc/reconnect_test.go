package rpc_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/status"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/rpc"
)

// serveOn serves fake on addr until stop is called (stop waits for Serve).
func serveOn(t *testing.T, addr string, fake *fakeState) (stop func()) {
	t.Helper()
	srv, err := rpc.NewServer(rpc.ServerConfig{ServiceKeys: keys, Addr: addr, Logger: quietLogger()})
	require.NoError(t, err)
	pb.RegisterStateServiceServer(srv.GRPC(), fake)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			require.NoError(t, <-done)
		})
	}
	t.Cleanup(stop)
	return stop
}

// acceptLog accepts TCP connections on addr and closes each at once (a
// port that answers but speaks no gRPC), recording when each attempt came.
type acceptLog struct {
	lis  net.Listener
	mu   sync.Mutex
	at   []time.Time
	done chan struct{}
}

func listenAccepts(t *testing.T, addr string) *acceptLog {
	t.Helper()
	lis, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	a := &acceptLog{lis: lis, done: make(chan struct{})}
	go func() {
		defer close(a.done)
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			a.mu.Lock()
			a.at = append(a.at, time.Now())
			a.mu.Unlock()
			c.Close()
		}
	}()
	return a
}

func (a *acceptLog) close() []time.Time {
	a.lis.Close()
	<-a.done
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.at
}

// TestReconnectsSoonAfterALongOutage: a server gone for seconds is reached
// again about a second after it returns on the same port, not after the
// tens of seconds gRPC's default backoff (1s growing to 120s) would wait.
// While it is gone, calls fail at once with UNAVAILABLE and the breaker
// stays closed (the transport already fails fast).
func TestReconnectsSoonAfterALongOutage(t *testing.T) {
	fake := newFakeState()
	addr := freeAddr(t)
	stop := serveOn(t, addr, fake)
	c, client := dialAddr(t, addr, rpc.ClientConfig{})
	_, err := client.SaveUser(t.Context(), &pb.SaveUserRequest{})
	require.NoError(t, err)
	stop()

	// Phase 1: nothing listens. Calls keep coming, as from users.
	outage := time.Now()
	var slowest time.Duration
	for time.Since(outage) < 3*time.Second {
		start := time.Now()
		_, err := client.SaveUser(t.Context(), &pb.SaveUserRequest{})
		require.Equal(t, codes.Unavailable, status.Code(err), "during the outage: %v", err)
		slowest = max(slowest, time.Since(start))
		time.Sleep(50 * time.Millisecond)
	}
	assert.Less(t, slowest, time.Second, "a call to a server that is down fails at once")
	assert.Equal(t, gobreaker.StateClosed, c.BreakerState(), "an unreachable server does not open the breaker")

	// Phase 2: the port answers TCP but not gRPC, so every reconnection
	// attempt shows up; their spacing is the backoff, which must stay
	// capped at about 1s (plus 20% jitter) however long the outage.
	attempts := listenAccepts(t, addr)
	for range 60 {
		_, _ = client.SaveUser(t.Context(), &pb.SaveUserRequest{})
		time.Sleep(50 * time.Millisecond)
	}
	at := attempts.close()
	require.GreaterOrEqual(t, len(at), 2, "reconnection attempts in 3s at the end of a 3s outage")
	var widest time.Duration
	for i := 1; i < len(at); i++ {
		widest = max(widest, at[i].Sub(at[i-1]))
	}
	t.Logf("reconnect attempts in the last 3s of a 6s outage: %d, widest spacing %v", len(at), widest.Round(time.Millisecond))
	assert.Less(t, widest, 1500*time.Millisecond, "backoff between attempts is capped near 1s")

	// Phase 3: the server is back on the same port.
	stop = serveOn(t, addr, fake)
	back := time.Now()
	for {
		_, err := client.SaveUser(t.Context(), &pb.SaveUserRequest{})
		if err == nil {
			break
		}
		require.Less(t, time.Since(back), 10*time.Second, "not reconnected: %v", err)
		time.Sleep(20 * time.Millisecond)
	}
	recovered := time.Since(back)
	t.Logf("calls succeed again %v after the server returned (outage %v)", recovered.Round(time.Millisecond), back.Sub(outage).Round(time.Millisecond))
	assert.Less(t, recovered, 2*time.Second)
	assert.Equal(t, gobreaker.StateClosed, c.BreakerState())
	stop()
}

// TestBreakerTreatsRefusalsAsAnswers: a server that refuses on purpose
// with a reason (UNAVAILABLE because its own dependency is down) works, so
// its breaker stays closed and callers reach it the moment it can serve
// again; a refusal marked INTERNAL is a fault like any other.
func TestBreakerTreatsRefusalsAsAnswers(t *testing.T) {
	tests := []struct {
		reason pb.ErrorReason
		want   gobreaker.State
	}{
		{pb.ErrorReason_UNAVAILABLE, gobreaker.StateClosed},
		{pb.ErrorReason_INTERNAL, gobreaker.StateOpen},
	}
	fake := newFakeState()
	srv := startServer(t, rpc.ServerConfig{}, fake)
	for _, tt := range tests {
		t.Run(tt.reason.String(), func(t *testing.T) {
			fake.setHandler(func(context.Context, string) error { return rpc.Refuse(tt.reason, "state: redis is down") })
			c, client := dial(t, srv, rpc.ClientConfig{
				Breaker: rpc.BreakerConfig{ConsecutiveFailures: 2, OpenTimeout: time.Minute},
			})
			for range 2 {
				_, err := client.SaveUser(t.Context(), &pb.SaveUserRequest{})
				require.Equal(t, rpc.Code(tt.reason), status.Code(err))
			}
			assert.Equal(t, tt.want, c.BreakerState())
		})
	}
}

// TestKeepalivePingsAreAccepted: the clients ping idle connections every
// 10s; the servers must allow it, or they answer the third ping with GOAWAY
// "too_many_pings" and every idle connection drops every 30 seconds.
func TestKeepalivePingsAreAccepted(t *testing.T) {
	t.Parallel()
	srv := startServer(t, rpc.ServerConfig{}, newFakeState())
	c, client := dial(t, srv, rpc.ClientConfig{})
	_, err := client.GetUser(t.Context(), &pb.GetUserRequest{})
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(t.Context(), 35*time.Second)
	defer cancel()
	changed := c.Conn().WaitForStateChange(ctx, connectivity.Ready)
	if changed {
		t.Fatalf("idle connection left READY for %v within 35s: pings refused", c.Conn().GetState())
	}
	require.True(t, errors.Is(ctx.Err(), context.DeadlineExceeded))
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := lis.Addr().String()
	require.NoError(t, lis.Close())
	return addr
}

// dialAddr is dial for an address rather than a running server.
func dialAddr(t *testing.T, addr string, cfg rpc.ClientConfig) (*rpc.Client, pb.StateServiceClient) {
	t.Helper()
	cfg.Target = addr
	if cfg.Name == "" {
		cfg.Name = "state"
	}
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	cfg.ServiceKeys = keys
	c, err := rpc.NewClient(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c, pb.NewStateServiceClient(c)
}
