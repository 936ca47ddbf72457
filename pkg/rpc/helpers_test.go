package rpc_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/rpc"
)

// keys sign and check the calls of every test of the package.
var keys = auth.NewServiceKeys()

// fakeState answers GetUser and SaveUser with whatever its handler says and
// counts the calls that reached it.
type fakeState struct {
	pb.UnimplementedStateServiceServer

	mu      sync.Mutex
	handler func(ctx context.Context, method string) error
	calls   map[string]int
}

var _ pb.StateServiceServer = (*fakeState)(nil)

func newFakeState() *fakeState { return &fakeState{calls: map[string]int{}} }

func (f *fakeState) setHandler(h func(ctx context.Context, method string) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.handler = h
}

func (f *fakeState) count(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

func (f *fakeState) call(ctx context.Context, method string) error {
	f.mu.Lock()
	f.calls[method]++
	h := f.handler
	f.mu.Unlock()
	if h == nil {
		return nil
	}
	return h(ctx, method)
}

func (f *fakeState) GetUser(ctx context.Context, req *pb.GetUserRequest) (*pb.User, error) {
	if err := f.call(ctx, "GetUser"); err != nil {
		return nil, err
	}
	return &pb.User{}, nil
}

func (f *fakeState) SaveUser(ctx context.Context, req *pb.SaveUserRequest) (*pb.User, error) {
	if err := f.call(ctx, "SaveUser"); err != nil {
		return nil, err
	}
	return &pb.User{}, nil
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// startServer serves fake on a loopback port until the test ends.
func startServer(t *testing.T, cfg rpc.ServerConfig, fake *fakeState) *rpc.Server {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	if cfg.ServiceKeys.IsZero() {
		cfg.ServiceKeys = keys
	}
	srv, err := rpc.NewServer(cfg)
	require.NoError(t, err)
	if fake != nil {
		pb.RegisterStateServiceServer(srv.GRPC(), fake)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	return srv
}

// dial connects to srv with quiet logs and fast retries.
func dial(t *testing.T, srv *rpc.Server, cfg rpc.ClientConfig) (*rpc.Client, pb.StateServiceClient) {
	t.Helper()
	cfg.Target = srv.Addr()
	if cfg.Name == "" {
		cfg.Name = "state"
	}
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	if cfg.Retry.Backoff == 0 {
		cfg.Retry.Backoff = 1
	}
	if cfg.ServiceKeys.IsZero() {
		cfg.ServiceKeys = keys
	}
	c, err := rpc.NewClient(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c, pb.NewStateServiceClient(c)
}
