package analyticssvc_test

import (
	"context"
	"github.com/pianorhythm/server/pkg/auth"
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
	"github.com/pianorhythm/server/pkg/rpc"
	"github.com/pianorhythm/server/pkg/store/storetest"
	"github.com/pianorhythm/server/pkg/track"
	"github.com/pianorhythm/server/services/analytics/analyticssvc"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(storetest.Wrap(m))
}

// stores are the backends of one test, shared by the service instances
// it starts one after the other.
type stores struct {
	rdb    redis.UniversalClient
	db     *mongo.Database
	prefix string
	stream string
}

func newStores(t testing.TB) stores {
	p := storetest.Prefix(t)
	return stores{rdb: storetest.Redis(t), db: storetest.Mongo(t), prefix: p, stream: p + "analytics:events"}
}

// instance is one running service on loopback with a client to it.
type instance struct {
	svc    *analyticssvc.Service
	client pb.AnalyticsServiceClient
	stop   func() // idempotent; also run at cleanup
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// start runs a service over st on a loopback gRPC server.
// serviceKeys sign and check the calls of the package's tests.
var serviceKeys = auth.NewServiceKeys()

func start(t testing.TB, st stores, cfg analyticssvc.Config) instance {
	t.Helper()
	cfg.KeyPrefix = st.prefix
	cfg.Stream = st.stream
	if cfg.BlockTime == 0 {
		cfg.BlockTime = 50 * time.Millisecond
	}
	if cfg.OpTimeout == 0 {
		// A loaded machine running every package's tests under -race makes
		// the embedded MongoDB slow; a batch that timed out would only be
		// retried after ClaimIdle.
		cfg.OpTimeout = 30 * time.Second
	}
	svc, err := analyticssvc.New(cfg, analyticssvc.Deps{Redis: st.rdb, Mongo: st.db, Logger: quiet})
	require.NoError(t, err)
	srv, err := rpc.NewServer(rpc.ServerConfig{Name: "analytics", Addr: "127.0.0.1:0", Logger: quiet, ServiceKeys: serviceKeys})
	require.NoError(t, err)
	svc.Register(srv.GRPC())
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	conn, err := rpc.Dial(rpc.ClientConfig{Target: srv.Addr(), Name: "analytics", Timeout: 10 * time.Second, Logger: quiet,
		ServiceKeys: serviceKeys, Caller: "test"})
	require.NoError(t, err)
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = conn.Close()
			cancel()
			require.NoError(t, <-served)
			cctx, ccancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer ccancel()
			require.NoError(t, svc.Close(cctx))
		})
	}
	t.Cleanup(stop)
	return instance{svc: svc, client: pb.NewAnalyticsServiceClient(conn), stop: stop}
}

// emitter writes to the test's stream the way other services do.
func emitter(t testing.TB, st stores) *track.Emitter {
	e := track.NewEmitter(st.rdb, track.Config{Stream: st.stream, Logger: quiet})
	t.Cleanup(func() { _ = e.Close(context.Background()) })
	return e
}

// flush waits until everything emitted reached the stream.
func flush(t testing.TB, e *track.Emitter) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, e.Close(ctx))
	require.Zero(t, e.Dropped())
}

// ctxT calls as an admin (who may do everything); auth_test.go checks what
// others may do.
func ctxT(t testing.TB) context.Context {
	return as(t, auth.Identity{UserID: "admin-1", Roles: []pb.Role{pb.Role_ADMIN}})
}

func as(t testing.TB, id auth.Identity) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	if id.UserID == "" {
		return ctx
	}
	return auth.OutgoingContext(ctx, id)
}

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func stats(t testing.TB, c pb.AnalyticsServiceClient, uid string) *pb.UserStats {
	t.Helper()
	s, err := c.GetUserStats(ctxT(t), &pb.UserStatsRequest{UserId: uid})
	require.NoError(t, err)
	return s
}

func counts(t testing.TB, c pb.AnalyticsServiceClient) map[string]int64 {
	t.Helper()
	r, err := c.EventCounts(ctxT(t), &pb.EventCountsRequest{})
	require.NoError(t, err)
	return r.GetCounts()
}

// waitFor polls until cond holds.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, 15*time.Second, 10*time.Millisecond, what)
}

// pending is how many entries of the group were read and not acknowledged.
func pending(t testing.TB, st stores) int64 {
	t.Helper()
	p, err := st.rdb.XPending(ctxT(t), st.stream, "analytics").Result()
	require.NoError(t, err)
	return p.Count
}

// requireRefused checks the status code and ErrorInfo reason of err.
func requireRefused(t testing.TB, err error, code codes.Code, reason string) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, code, status.Code(err), "error: %v", err)
	require.Equal(t, reason, rpc.Reason(err), "error: %v", err)
}
