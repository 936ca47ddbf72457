package monitorsvc_test

import (
	"context"
	"github.com/pianorhythm/server/pkg/auth"
	"log/slog"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/rpc"
	"github.com/pianorhythm/server/pkg/store/storetest"
	"github.com/pianorhythm/server/services/monitor/monitorsvc"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(storetest.Wrap(m))
}

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeClock is a Clock that moves only when told.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// serve runs srv until the test ends.
func serve(t *testing.T, srv *rpc.Server) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
}

// serviceKeys sign and check the calls of the package's tests (the
// monitor's own calls to its targets too).
var serviceKeys = auth.NewServiceKeys()

// dial connects to addr for the rest of the test.
func dial(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := rpc.Dial(rpc.ClientConfig{Target: addr, Name: "test", Logger: quiet(), ServiceKeys: serviceKeys, Caller: "test"})
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// target is a service's gRPC server with only health, as the monitor sees it.
func target(t *testing.T) *rpc.Server {
	t.Helper()
	srv, err := rpc.NewServer(rpc.ServerConfig{ServiceKeys: serviceKeys, Name: "target", Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	srv.SetServing("", true)
	serve(t, srv)
	return srv
}

type env struct {
	svc    *monitorsvc.Service
	client pb.MonitorServiceClient
	clock  *fakeClock
}

// start runs the monitor with a fake clock and no automatic checks (unless
// cfg says otherwise) behind a real gRPC server.
func start(t *testing.T, cfg monitorsvc.Config, deps monitorsvc.Deps) *env {
	t.Helper()
	clock := &fakeClock{now: t0}
	if cfg.Clock == nil {
		cfg.Clock = clock
	}
	if cfg.CheckInterval == 0 {
		cfg.CheckInterval = -1
	}
	if cfg.CheckTimeout == 0 {
		cfg.CheckTimeout = 2 * time.Second
	}
	if deps.Logger == nil {
		deps.Logger = quiet()
	}
	svc, err := monitorsvc.New(cfg, deps)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv, err := rpc.NewServer(rpc.ServerConfig{ServiceKeys: serviceKeys, Name: "monitor", Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	svc.Register(srv.GRPC())
	serve(t, srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := svc.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return &env{svc: svc, client: pb.NewMonitorServiceClient(dial(t, srv.Addr())), clock: clock}
}

// ctxT calls as an admin; TestWhoMaySeeInternals checks the others.
func ctxT(t *testing.T) context.Context {
	return as(t, auth.Identity{UserID: "admin-1", Roles: []pb.Role{pb.Role_ADMIN}})
}

func as(t *testing.T, id auth.Identity) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	if id.UserID == "" {
		return ctx
	}
	return auth.OutgoingContext(ctx, id)
}
