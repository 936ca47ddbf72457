package rpc_test

import (
	"context"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/rpc"
)

func failWith(c codes.Code) func(context.Context, string) error {
	return func(context.Context, string) error { return status.Error(c, "failing on purpose") }
}

func TestBreakerOpensFailsFastAndRecovers(t *testing.T) {
	fake := newFakeState()
	fake.setHandler(failWith(codes.Unavailable))
	srv := startServer(t, rpc.ServerConfig{}, fake)
	c, client := dial(t, srv, rpc.ClientConfig{
		Name:    "state",
		Breaker: rpc.BreakerConfig{ConsecutiveFailures: 3, OpenTimeout: 100 * time.Millisecond},
	})
	ctx := t.Context()

	// SaveUser is not idempotent: one server call per client call.
	for i := range 3 {
		require.Equal(t, gobreaker.StateClosed, c.BreakerState(), "after %d failures", i)
		_, err := client.SaveUser(ctx, &pb.SaveUserRequest{})
		require.Equal(t, codes.Unavailable, status.Code(err))
	}
	require.Equal(t, gobreaker.StateOpen, c.BreakerState())
	require.Equal(t, 3, fake.count("SaveUser"))

	// Open: fails at once, the server is not called.
	start := time.Now()
	_, err := client.SaveUser(ctx, &pb.SaveUserRequest{})
	require.Equal(t, codes.Unavailable, status.Code(err))
	assert.Contains(t, status.Convert(err).Message(), "state")
	assert.Contains(t, status.Convert(err).Message(), "circuit breaker open")
	assert.Less(t, time.Since(start), time.Second, "fails fast, well before the 5s deadline")
	assert.Equal(t, 3, fake.count("SaveUser"))

	// gobreaker reads the wall clock; OpenTimeout is short instead.
	require.Eventually(t, func() bool { return c.BreakerState() == gobreaker.StateHalfOpen },
		2*time.Second, 5*time.Millisecond)

	// A failed probe opens it again.
	_, err = client.SaveUser(ctx, &pb.SaveUserRequest{})
	require.Equal(t, codes.Unavailable, status.Code(err))
	require.Equal(t, 4, fake.count("SaveUser"))
	require.Equal(t, gobreaker.StateOpen, c.BreakerState())

	// A successful probe closes it.
	fake.setHandler(nil)
	require.Eventually(t, func() bool { return c.BreakerState() == gobreaker.StateHalfOpen },
		2*time.Second, 5*time.Millisecond)
	_, err = client.SaveUser(ctx, &pb.SaveUserRequest{})
	require.NoError(t, err)
	assert.Equal(t, gobreaker.StateClosed, c.BreakerState())
	assert.Equal(t, 5, fake.count("SaveUser"))
}

func TestBreakerCountsOnlyServerFaults(t *testing.T) {
	tests := []struct {
		code codes.Code
		want gobreaker.State
	}{
		{codes.InvalidArgument, gobreaker.StateClosed},
		{codes.NotFound, gobreaker.StateClosed},
		{codes.PermissionDenied, gobreaker.StateClosed},
		{codes.AlreadyExists, gobreaker.StateClosed},
		{codes.ResourceExhausted, gobreaker.StateClosed},
		{codes.FailedPrecondition, gobreaker.StateClosed},
		{codes.Unauthenticated, gobreaker.StateClosed},
		{codes.Unavailable, gobreaker.StateOpen},
		{codes.Internal, gobreaker.StateOpen},
		{codes.Unknown, gobreaker.StateOpen},
		{codes.DeadlineExceeded, gobreaker.StateOpen},
	}
	fake := newFakeState()
	srv := startServer(t, rpc.ServerConfig{}, fake)
	for _, tt := range tests {
		t.Run(tt.code.String(), func(t *testing.T) {
			fake.setHandler(failWith(tt.code))
			c, client := dial(t, srv, rpc.ClientConfig{
				Breaker: rpc.BreakerConfig{ConsecutiveFailures: 2, OpenTimeout: time.Minute},
			})
			for range 3 {
				_, err := client.SaveUser(t.Context(), &pb.SaveUserRequest{})
				require.Equal(t, tt.code, status.Code(err))
				if c.BreakerState() == gobreaker.StateOpen {
					break
				}
			}
			assert.Equal(t, tt.want, c.BreakerState())
		})
	}
}

func TestBreakerIgnoresCallerCancellation(t *testing.T) {
	fake := newFakeState()
	fake.setHandler(func(ctx context.Context, _ string) error {
		<-ctx.Done()
		return ctx.Err()
	})
	srv := startServer(t, rpc.ServerConfig{}, fake)
	c, client := dial(t, srv, rpc.ClientConfig{Breaker: rpc.BreakerConfig{ConsecutiveFailures: 1}})

	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		require.Eventually(t, func() bool { return fake.count("SaveUser") == 1 }, 2*time.Second, time.Millisecond)
		cancel()
	}()
	_, err := client.SaveUser(ctx, &pb.SaveUserRequest{})
	require.Equal(t, codes.Canceled, status.Code(err))
	assert.Equal(t, gobreaker.StateClosed, c.BreakerState())
}

func TestRetry(t *testing.T) {
	tests := []struct {
		name      string
		method    string
		failures  int // the first n calls fail with code
		code      codes.Code
		wantCalls int
		wantCode  codes.Code
	}{
		{"idempotent recovers", "GetUser", 2, codes.Unavailable, 3, codes.OK},
		{"idempotent gives up", "GetUser", 10, codes.Unavailable, 3, codes.Unavailable},
		{"idempotent not retried on other codes", "GetUser", 10, codes.Internal, 1, codes.Internal},
		{"idempotent not retried on refusal", "GetUser", 10, codes.NotFound, 1, codes.NotFound},
		{"non-idempotent not retried", "SaveUser", 1, codes.Unavailable, 1, codes.Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakeState()
			var n atomic.Int32
			fake.setHandler(func(context.Context, string) error {
				if int(n.Add(1)) <= tt.failures {
					return status.Error(tt.code, "failing on purpose")
				}
				return nil
			})
			srv := startServer(t, rpc.ServerConfig{}, fake)
			_, client := dial(t, srv, rpc.ClientConfig{Retry: rpc.RetryConfig{MaxAttempts: 3}})

			var err error
			if tt.method == "GetUser" {
				_, err = client.GetUser(t.Context(), &pb.GetUserRequest{})
			} else {
				_, err = client.SaveUser(t.Context(), &pb.SaveUserRequest{})
			}
			assert.Equal(t, tt.wantCode, status.Code(err))
			assert.Equal(t, tt.wantCalls, fake.count(tt.method))
		})
	}
}

func TestRetryRespectsDeadline(t *testing.T) {
	fake := newFakeState()
	fake.setHandler(failWith(codes.Unavailable))
	srv := startServer(t, rpc.ServerConfig{}, fake)
	_, client := dial(t, srv, rpc.ClientConfig{Retry: rpc.RetryConfig{MaxAttempts: 5, Backoff: time.Minute}})

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := client.GetUser(ctx, &pb.GetUserRequest{})
	assert.Contains(t, []codes.Code{codes.Unavailable, codes.DeadlineExceeded}, status.Code(err))
	assert.Less(t, time.Since(start), 2*time.Second, "the call ends with its deadline, not after the backoff")
	assert.Less(t, fake.count("GetUser"), 5, "no attempt after the deadline")
}

func TestDefaultDeadline(t *testing.T) {
	deadlines := make(chan time.Duration, 1)
	fake := newFakeState()
	fake.setHandler(func(ctx context.Context, _ string) error {
		d, ok := ctx.Deadline()
		if !ok {
			deadlines <- -1
			return nil
		}
		deadlines <- time.Until(d)
		return nil
	})
	srv := startServer(t, rpc.ServerConfig{}, fake)
	_, client := dial(t, srv, rpc.ClientConfig{Timeout: 3 * time.Second})

	t.Run("default applied", func(t *testing.T) {
		_, err := client.GetUser(context.Background(), &pb.GetUserRequest{})
		require.NoError(t, err)
		left := <-deadlines
		assert.Greater(t, left, 2*time.Second)
		assert.LessOrEqual(t, left, 3*time.Second)
	})
	t.Run("caller's deadline kept", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := client.GetUser(ctx, &pb.GetUserRequest{})
		require.NoError(t, err)
		left := <-deadlines
		assert.Greater(t, left, 20*time.Second)
	})
}

func TestDialPlainConnBuildsClients(t *testing.T) {
	srv := startServer(t, rpc.ServerConfig{}, newFakeState())
	conn, err := rpc.Dial(rpc.ClientConfig{Target: srv.Addr(), Logger: quietLogger(), ServiceKeys: keys})
	require.NoError(t, err)
	defer conn.Close()
	_, err = pb.NewStateServiceClient(conn).GetUser(t.Context(), &pb.GetUserRequest{})
	require.NoError(t, err)
}

func TestClientConfigValidate(t *testing.T) {
	_, err := rpc.Dial(rpc.ClientConfig{})
	require.ErrorContains(t, err, "target")
	_, err = rpc.Dial(rpc.ClientConfig{Target: "x"})
	require.ErrorContains(t, err, "service keys")
	_, err = rpc.Dial(rpc.ClientConfig{Target: "x", ServiceKeys: keys, Timeout: -1})
	require.ErrorContains(t, err, "timeout")
}

// TestRetryableMethodsComeFromTheProtos: what is retried is what the
// protos declare (idempotency_level), reads of every service and no write.
func TestRetryableMethodsComeFromTheProtos(t *testing.T) {
	retryable := map[protoreflect.FullName]bool{}
	for _, m := range rpc.RetryableMethods(protoregistry.GlobalFiles) {
		retryable[m] = true
	}
	tests := map[protoreflect.FullName]bool{
		"pianorhythm.v1.StateService.GetUser":            true,
		"pianorhythm.v1.StateService.ListRooms":          true,
		"pianorhythm.v1.StateService.ChatHistory":        true,
		"pianorhythm.v1.StateService.RoomMembers":        true,
		"pianorhythm.v1.UserService.SearchUsers":         true,
		"pianorhythm.v1.UserService.Me":                  true,
		"pianorhythm.v1.UserService.Jwks":                true,
		"pianorhythm.v1.UserService.VerifyToken":         true,
		"pianorhythm.v1.MonitorService.Status":           true,
		"pianorhythm.v1.StateService.SaveUser":           false,
		"pianorhythm.v1.StateService.Hit":                false,
		"pianorhythm.v1.RoomService.JoinRoom":            false,
		"pianorhythm.v1.RoomService.SendChat":            false,
		"pianorhythm.v1.UserService.ConsumeRefreshToken": false,
	}
	for method, want := range tests {
		assert.Equal(t, want, retryable[method], method)
	}
}
