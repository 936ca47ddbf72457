// Command analytics runs the analytics service (AnalyticsTracker,
// UserStatsTracker, SheetMusicStatsTracker) alone. Every flag has an
// environment variable (-help lists them); the configuration is printed at
// start with secrets masked.
package main

import (
	"context"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/boot"
	"github.com/pianorhythm/server/pkg/store"
	"github.com/pianorhythm/server/services/analytics/analyticssvc"
)

func main() { boot.Main("analytics", "127.0.0.1:9105", run) }

func run(ctx context.Context, p *boot.Program) error {
	fs := p.Flags
	redisURL := fs.Secret("redis-url", "REDIS_URL", "", "Redis URL (empty: embedded Redis)")
	mongoURI := fs.Secret("mongodb-uri", "MONGODB_URI", "", "MongoDB URI (empty: embedded FerretDB under the data dir)")
	database := fs.String("mongodb-database", "PR_MONGODB_DATABASE", "pianorhythm", "MongoDB database")
	dataDir := fs.String("data-dir", "PR_DATA_DIR", "./data", "data directory (embedded MongoDB)")
	prefix := fs.String("key-prefix", "PR_KEY_PREFIX", "pr:", "prefix of every Redis key of the service")
	stream := fs.String("analytics-stream", "PR_ANALYTICS_STREAM", "pr:analytics:events", "analytics Redis stream (as the emitters write it)")
	group := fs.String("group", "PR_ANALYTICS_GROUP", "analytics", "consumer group")
	consumer := fs.String("consumer", "PR_ANALYTICS_CONSUMER", "", "consumer name (empty: hostname-pid)")
	batch := fs.Int("batch-size", "PR_ANALYTICS_BATCH", 100, "entries read and applied at once")
	claimIdle := fs.Duration("claim-idle", "PR_ANALYTICS_CLAIM_IDLE", time.Minute, "pending entries idle this long are claimed")
	if err := p.Parse(ctx); err != nil {
		return err
	}
	rdb, err := p.Redis(ctx, *redisURL)
	if err != nil {
		return err
	}
	mongo, err := p.Mongo(ctx, store.MongoConfig{URI: *mongoURI, Database: *database, DataDir: *dataDir})
	if err != nil {
		return err
	}
	svc, err := analyticssvc.New(analyticssvc.Config{
		KeyPrefix: *prefix, Stream: *stream, Group: *group, Consumer: *consumer, BatchSize: *batch, ClaimIdle: *claimIdle,
	}, analyticssvc.Deps{Redis: rdb.Client, Mongo: mongo.DB, Logger: p.Log, Meter: p.Meter(), OnPanic: p.ActorPanics, OnGiveUp: p.ActorGaveUp})
	if err != nil {
		return err
	}
	// Closed before the stores: the last batch is applied and acknowledged
	// while Redis is still open.
	p.Defer(svc.Close)
	p.ReadyWhen(svc.Ready)
	return p.Serve(ctx, pb.AnalyticsService_ServiceDesc.ServiceName, svc.Register)
}
