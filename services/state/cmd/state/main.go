// Command state runs the state service (PianoRhythmState) alone. Every flag
// has an environment variable (-help lists them); the configuration is
// printed at start with secrets masked. With no REDIS_URL / MONGODB_URI it
// runs embedded stores (miniredis, FerretDB under -data-dir).
package main

import (
	"context"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/boot"
	"github.com/pianorhythm/server/pkg/store"
	"github.com/pianorhythm/server/services/state/statesvc"
)

func main() { boot.Main("state", "127.0.0.1:9101", run) }

func run(ctx context.Context, p *boot.Program) error {
	fs := p.Flags
	redisURL := fs.Secret("redis-url", "REDIS_URL", "", "Redis URL (empty: embedded Redis)")
	mongoURI := fs.Secret("mongodb-uri", "MONGODB_URI", "", "MongoDB URI (empty: embedded FerretDB under the data dir)")
	database := fs.String("mongodb-database", "PR_MONGODB_DATABASE", "pianorhythm", "MongoDB database")
	dataDir := fs.String("data-dir", "PR_DATA_DIR", "./data", "data directory (embedded MongoDB)")
	prefix := fs.String("key-prefix", "PR_KEY_PREFIX", "pr:", "prefix of every Redis key and channel")
	chatHistory := fs.Int("chat-history", "PR_CHAT_HISTORY", 100, "recent chat messages kept per room in Redis")
	flush := fs.Duration("chat-flush-interval", "PR_CHAT_FLUSH_INTERVAL", time.Second, "retry interval of failed archive writes")
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
	svc, err := statesvc.New(
		statesvc.Config{KeyPrefix: *prefix, ChatHistory: *chatHistory, ChatFlushInterval: *flush},
		statesvc.Deps{Redis: rdb.Client, Mongo: mongo.DB, Logger: p.Log, Meter: p.Meter(), OnPanic: p.ActorPanics, OnGiveUp: p.ActorGaveUp},
	)
	if err != nil {
		return err
	}
	// Closed before the stores (closers run in reverse): pending chat is
	// written to MongoDB while it is still open.
	p.Defer(svc.Close)
	p.ReadyWhen(svc.Ready)
	return p.Serve(ctx, pb.StateService_ServiceDesc.ServiceName, svc.Register)
}
