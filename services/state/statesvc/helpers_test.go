package statesvc_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.uber.org/goleak"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/rpc"
	"github.com/pianorhythm/server/pkg/store/storetest"
	"github.com/pianorhythm/server/pkg/telemetry"
	"github.com/pianorhythm/server/services/state/statesvc"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(storetest.Wrap(m))
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// stores are the shared backends of one test.
type stores struct {
	rdb    redis.UniversalClient
	db     *mongo.Database
	prefix string
	clk    *clock
}

func newStores(t testing.TB) stores {
	return stores{rdb: storetest.Redis(t), db: storetest.Mongo(t), prefix: storetest.Prefix(t), clk: newClock()}
}

// serviceKeys sign and check the calls of the package's tests.
var serviceKeys = auth.NewServiceKeys()

// instance is one running service on loopback with a client to it.
type instance struct {
	svc    *statesvc.Service
	client pb.StateServiceClient
}

// start runs a service over st on a loopback gRPC server; everything is
// stopped at test cleanup.
func start(t testing.TB, st stores, cfg statesvc.Config) instance {
	t.Helper()
	cfg.KeyPrefix = st.prefix
	if cfg.Now == nil {
		cfg.Now = st.clk.Now
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, err := statesvc.New(cfg, statesvc.Deps{Redis: st.rdb, Mongo: st.db, Logger: log})
	require.NoError(t, err)
	srv, err := rpc.NewServer(rpc.ServerConfig{Name: "state", Addr: "127.0.0.1:0", Logger: log, Propagator: telemetry.Propagator(), ServiceKeys: serviceKeys})
	require.NoError(t, err)
	svc.Register(srv.GRPC())
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	conn, err := rpc.Dial(rpc.ClientConfig{Target: srv.Addr(), Name: "state", Timeout: 10 * time.Second, Logger: log, Propagator: telemetry.Propagator(),
		ServiceKeys: serviceKeys, Caller: "test"})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = conn.Close()
		cancel()
		require.NoError(t, <-served)
		// Generous: after a benchmark the archive backlog is flushed here.
		cctx, ccancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer ccancel()
		require.NoError(t, svc.Close(cctx))
	})
	return instance{svc: svc, client: pb.NewStateServiceClient(conn)}
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// requireRefused checks the status code and ErrorInfo reason of err.
func requireRefused(t testing.TB, err error, code codes.Code, reason string) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, code, status.Code(err), "error: %v", err)
	if reason != "" {
		require.Equal(t, reason, rpc.Reason(err), "error: %v", err)
	}
}

func member(uid, conn string) *pb.Member {
	return &pb.Member{User: &pb.User{Id: uid, DisplayName: uid}, ConnectionId: conn, InstanceId: "edge-1"}
}

func ptr[T any](v T) *T { return &v }

// saveRoom creates a room.
func saveRoom(t testing.TB, c pb.StateServiceClient, r *pb.Room) *pb.Room {
	t.Helper()
	got, err := c.SaveRoom(ctxT(t), &pb.SaveRoomRequest{Room: r, CreateOnly: true})
	require.NoError(t, err)
	return got.GetRoom()
}

// updateRoom writes a change of an existing room unconditionally.
func updateRoom(t testing.TB, c pb.StateServiceClient, r *pb.Room) *pb.Room {
	t.Helper()
	got, err := c.SaveRoom(ctxT(t), &pb.SaveRoomRequest{Room: r})
	require.NoError(t, err)
	require.False(t, got.GetStale())
	return got.GetRoom()
}

// seat puts uid in room.
func seat(t testing.TB, c pb.StateServiceClient, room, uid string) {
	t.Helper()
	_, err := c.AddUserToRoom(ctxT(t), &pb.AddUserToRoomRequest{RoomId: room, Member: member(uid, "conn-"+uid)})
	require.NoError(t, err)
}
