package roomsvc_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/propagation"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/rpc"
	"github.com/pianorhythm/server/services/room/roomsvc"
)

// t0 is the fake clock's start.
var t0 = time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// serviceKeys sign and check the calls between the test's services.
var serviceKeys = auth.NewServiceKeys()

// env is one test's world: a state backend, a fake clock, and a room
// service served over gRPC on loopback.
type env struct {
	t     testing.TB
	clock *roomsvc.FakeClock
	state pb.StateServiceClient
	be    *stateBackend
	cfg   roomsvc.Config
	rooms pb.RoomServiceClient
	svc   *roomsvc.Service
	evs   *recorder
}

// newEnv starts the state backend and one room service instance.
func newEnv(t testing.TB, cfg roomsvc.Config) *env {
	t.Helper()
	e := &env{t: t, clock: roomsvc.NewFakeClock(t0), evs: &recorder{}}
	e.be = startBackend(t, e.clock)
	e.state = e.be.client()
	if cfg.Clock == nil {
		cfg.Clock = e.clock
	}
	e.cfg = cfg
	e.svc, e.rooms = e.startInstance()
	return e
}

// startInstance serves another room service on the same state backend.
func (e *env) startInstance() (*roomsvc.Service, pb.RoomServiceClient) {
	t := e.t
	t.Helper()
	svc, err := roomsvc.New(e.cfg, roomsvc.Deps{State: e.state, Events: e.evs, Logger: quiet})
	if err != nil {
		t.Fatalf("roomsvc.New: %v", err)
	}
	srv, err := rpc.NewServer(rpc.ServerConfig{Name: "room", Logger: quiet, Propagator: propagation.TraceContext{}, ServiceKeys: serviceKeys})
	if err != nil {
		t.Fatalf("rpc.NewServer: %v", err)
	}
	svc.Register(srv.GRPC())
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	conn, err := grpc.NewClient(srv.Addr(), append(rpc.WithServiceCredentials(serviceKeys, "edge"),
		grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		t.Fatalf("dial room: %v", err)
	}
	t.Cleanup(func() {
		_ = conn.Close()
		cancel()
		<-served
		ctx, stop := context.WithTimeout(context.Background(), 10*time.Second)
		defer stop()
		if err := svc.Close(ctx); err != nil {
			t.Errorf("close room service: %v", err)
		}
	})
	return svc, pb.NewRoomServiceClient(conn)
}

// Identities used across tests.
var (
	alice = auth.Identity{UserID: "alice", DisplayName: "Alice", Roles: []pb.Role{pb.Role_MEMBER}}
	bob   = auth.Identity{UserID: "bob", DisplayName: "Bob", Roles: []pb.Role{pb.Role_MEMBER}}
	carol = auth.Identity{UserID: "carol", DisplayName: "Carol", Roles: []pb.Role{pb.Role_MEMBER}}
	pro   = auth.Identity{UserID: "pat", DisplayName: "Pat", Roles: []pb.Role{pb.Role_PRO}}
	guest = auth.Identity{UserID: "guest-1", DisplayName: "Guest 1", Roles: []pb.Role{pb.Role_GUEST}, Guest: true}
	mod   = auth.Identity{UserID: "mo", DisplayName: "Mo", Roles: []pb.Role{pb.Role_MODERATOR}}
	admin = auth.Identity{UserID: "ada", DisplayName: "Ada", Roles: []pb.Role{pb.Role_ADMIN}}
	ghost = auth.Identity{UserID: "system:ghost-tracker"}
)

// as returns a context whose calls act for id.
func as(id auth.Identity) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	_ = cancel // bounded by the timeout; tests are short
	return auth.OutgoingContext(ctx, id)
}

// wantReason fails unless err carries reason.
func wantReason(t testing.TB, err error, reason string) {
	t.Helper()
	if got := rpc.Reason(err); got != reason {
		t.Fatalf("got error %v (reason %q), want reason %q", err, got, reason)
	}
}

func must[T any](t testing.TB) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

func memberIDs(ms []*pb.Member) map[string]bool {
	out := map[string]bool{}
	for _, m := range ms {
		out[m.GetUser().GetId()] = true
	}
	return out
}

// recorder collects analytics events.
type recorder struct {
	mu  sync.Mutex
	evs []*pb.Event
}

func (r *recorder) Emit(_ context.Context, e *pb.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, e)
}

func (r *recorder) count(typ pb.EventType) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.evs {
		if e.GetType() == typ {
			n++
		}
	}
	return n
}

// advance moves time for the room service and the state backend.
func (e *env) advance(d time.Duration) { e.be.advance(e.t, e.clock, d) }
