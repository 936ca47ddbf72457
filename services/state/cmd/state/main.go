// Command state runs the state service (PianoRhythmState) alone, on its
// gRPC port. Every flag has an environment variable; the configuration is
// printed at start with secrets masked. With no REDIS_URL / MONGODB_URI it
// runs embedded stores (miniredis, FerretDB under -data-dir).
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
	"github.com/pianorhythm/server/services/state/statesvc"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "state:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) (err error) {
	fs := flagenv.New("state")
	addr := fs.String("addr", "STATE_ADDR", "127.0.0.1:9101", "StateService gRPC address")
	redisURL := fs.Secret("redis-url", "REDIS_URL", "", "Redis URL (empty: embedded Redis)")
	mongoURI := fs.Secret("mongodb-uri", "MONGODB_URI", "", "MongoDB URI (empty: embedded FerretDB under the data dir)")
	database := fs.String("mongodb-database", "PR_MONGODB_DATABASE", "pianorhythm", "MongoDB database")
	dataDir := fs.String("data-dir", "PR_DATA_DIR", "./data", "data directory (embedded MongoDB)")
	prefix := fs.String("key-prefix", "PR_KEY_PREFIX", "pr:", "prefix of every Redis key and channel")
	shards := fs.Int("shards", "PR_STATE_SHARDS", 0, "shard actors (0: 2 per CPU)")
	chatHistory := fs.Int("chat-history", "PR_CHAT_HISTORY", 100, "recent chat messages kept per room in Redis")
	flush := fs.Duration("chat-flush-interval", "PR_CHAT_FLUSH_INTERVAL", time.Second, "retry interval of failed archive writes")
	otlp := fs.String("otlp-endpoint", "OTEL_EXPORTER_OTLP_ENDPOINT", "", "OTLP gRPC endpoint (empty: no export)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	fs.Print(os.Stderr)

	cfg := statesvc.Config{KeyPrefix: *prefix, Shards: *shards, ChatHistory: *chatHistory, ChatFlushInterval: *flush}
	tel, err := telemetry.Setup(ctx, telemetry.Config{ServiceName: "state", OTLPEndpoint: *otlp})
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

	svc, err := statesvc.New(cfg, statesvc.Deps{
		Redis: rdb.Client, Mongo: mongo.DB, Logger: log, Meter: tel.MeterProvider().Meter("state"),
	})
	if err != nil {
		return err
	}
	// Deferred after the stores' Close, so it runs first: the archive is
	// flushed while MongoDB is still open.
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = errors.Join(err, svc.Close(cctx))
	}()

	gs, err := rpc.NewServer(rpc.ServerConfig{Name: "state", Addr: *addr, Logger: log})
	if err != nil {
		return err
	}
	svc.Register(gs.GRPC())
	gs.SetServing(pb.StateService_ServiceDesc.ServiceName, true)
	log.Info("state service listening", "addr", gs.Addr())
	return gs.Serve(ctx)
}
