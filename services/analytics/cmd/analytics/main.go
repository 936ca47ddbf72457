// Command analytics runs the analytics service (AnalyticsTracker,
// UserStatsTracker, SheetMusicStatsTracker) alone, on its gRPC port. Every
// flag has an environment variable; the configuration is printed at start
// with secrets masked. With no REDIS_URL / MONGODB_URI it runs embedded
// stores (miniredis, FerretDB under -data-dir); note that an embedded Redis
// is this process's own, so no other service can write events to it.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/flagenv"
	"github.com/pianorhythm/server/pkg/rpc"
	"github.com/pianorhythm/server/pkg/store"
	"github.com/pianorhythm/server/pkg/telemetry"
	"github.com/pianorhythm/server/services/analytics/analyticssvc"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "analytics:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) (err error) {
	fs := flagenv.New("analytics")
	addr := fs.String("addr", "ANALYTICS_ADDR", "127.0.0.1:9105", "AnalyticsService gRPC address")
	redisURL := fs.Secret("redis-url", "REDIS_URL", "", "Redis URL (empty: embedded Redis)")
	mongoURI := fs.Secret("mongodb-uri", "MONGODB_URI", "", "MongoDB URI (empty: embedded FerretDB under the data dir)")
	database := fs.String("mongodb-database", "PR_MONGODB_DATABASE", "pianorhythm", "MongoDB database")
	dataDir := fs.String("data-dir", "PR_DATA_DIR", "./data", "data directory (embedded MongoDB)")
	prefix := fs.String("key-prefix", "PR_KEY_PREFIX", "pr:", "prefix of every Redis key of the service")
	stream := fs.String("analytics-stream", "PR_ANALYTICS_STREAM", "analytics:events", "analytics Redis stream (as the emitters write it)")
	group := fs.String("group", "PR_ANALYTICS_GROUP", "analytics", "consumer group")
	consumer := fs.String("consumer", "PR_ANALYTICS_CONSUMER", "", "consumer name (empty: hostname-pid)")
	batch := fs.Int("batch-size", "PR_ANALYTICS_BATCH", 100, "entries read and applied at once")
	claimIdle := fs.Duration("claim-idle", "PR_ANALYTICS_CLAIM_IDLE", time.Minute, "pending entries idle this long are claimed")
	otlp := fs.String("otlp-endpoint", "OTEL_EXPORTER_OTLP_ENDPOINT", "", "OTLP gRPC endpoint (empty: no export)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	fs.Print(os.Stderr)

	cfg := analyticssvc.Config{
		KeyPrefix: *prefix, Stream: *stream, Group: *group, Consumer: *consumer,
		BatchSize: *batch, ClaimIdle: *claimIdle,
	}
	tel, err := telemetry.Setup(ctx, telemetry.Config{ServiceName: "analytics", OTLPEndpoint: *otlp})
	if err != nil {
		return err
	}
	tel.Install()
	defer func() { err = errors.Join(err, tel.Shutdown(context.Background())) }()
	log := tel.Logger()

	rdb, err := store.OpenRedis(ctx, store.RedisConfig{URL: *redisURL})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, rdb.Close()) }()
	mongo, err := store.OpenMongo(ctx, store.MongoConfig{URI: *mongoURI, Database: *database, DataDir: *dataDir, Logger: log})
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = errors.Join(err, mongo.Close(cctx))
	}()

	svc, err := analyticssvc.New(cfg, analyticssvc.Deps{
		Redis: rdb.Client, Mongo: mongo.DB, Logger: log, Meter: tel.MeterProvider().Meter("analytics"),
	})
	if err != nil {
		return err
	}
	// Deferred after the stores' Close, so it runs first: the last batch is
	// applied and acknowledged while Redis is still open.
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = errors.Join(err, svc.Close(cctx))
	}()

	gs, err := rpc.NewServer(rpc.ServerConfig{Name: "analytics", Addr: *addr, Logger: log})
	if err != nil {
		return err
	}
	svc.Register(gs.GRPC())
	gs.SetServing(pb.AnalyticsService_ServiceDesc.ServiceName, true)
	log.Info("analytics service listening", "addr", gs.Addr())
	return gs.Serve(ctx)
}
