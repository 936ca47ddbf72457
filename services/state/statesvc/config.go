package statesvc

import (
	"errors"
	"github.com/pianorhythm/server/pkg/actor"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.opentelemetry.io/otel/metric"
)

// Config configures the service. Every zero value has a documented default.
type Config struct {
	// KeyPrefix starts every Redis key and pub/sub channel; zero value
	// means "pr:". Tests use storetest.Prefix.
	KeyPrefix string
	// ChatHistory is how many recent messages each room keeps in Redis and
	// the most ChatHistory returns; zero value means 100.
	ChatHistory int
	// ChatBatchSize is the most archive writes grouped into one MongoDB
	// bulk write (the writer actor's BatchSize); zero value means 256.
	ChatBatchSize int
	// ChatFlushInterval is how often archive writes that failed are
	// retried. Writes are not delayed by it: the writer flushes whatever
	// queued while the previous write ran (group commit). Zero value means
	// 1s.
	ChatFlushInterval time.Duration
	// OpTimeout bounds one request's store work; zero value means 5s.
	OpTimeout time.Duration
	// RevokedFamilyTTL is how long a revoked refresh-token family is
	// remembered in MongoDB (so its late tokens are refused); it must
	// exceed the longest token TTL. Zero value means 30 days.
	RevokedFamilyTTL time.Duration
	// StartTimeout bounds index creation and the first restore in New;
	// zero value means 30s.
	StartTimeout time.Duration
	// RestoreCheckInterval is how often the service checks whether Redis
	// lost its data (restarted empty) and restores rooms and settings from
	// MongoDB; zero value means 1s.
	RestoreCheckInterval time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	if c.KeyPrefix == "" {
		c.KeyPrefix = "pr:"
	}
	if c.ChatHistory == 0 {
		c.ChatHistory = 100
	}
	if c.ChatBatchSize == 0 {
		c.ChatBatchSize = 256
	}
	if c.ChatFlushInterval == 0 {
		c.ChatFlushInterval = time.Second
	}
	if c.OpTimeout == 0 {
		c.OpTimeout = 5 * time.Second
	}
	if c.RevokedFamilyTTL == 0 {
		c.RevokedFamilyTTL = 30 * 24 * time.Hour
	}
	if c.StartTimeout == 0 {
		c.StartTimeout = 30 * time.Second
	}
	if c.RestoreCheckInterval == 0 {
		c.RestoreCheckInterval = time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Validate reports a configuration New cannot use (after defaults).
func (c Config) Validate() error {
	switch {
	case c.ChatHistory < 1 || c.ChatHistory > 1000:
		return errors.New("state: ChatHistory must be 1-1000")
	case c.ChatBatchSize < 1:
		return errors.New("state: ChatBatchSize must be positive")
	case c.ChatFlushInterval < 0, c.OpTimeout < 0, c.RevokedFamilyTTL < 0, c.StartTimeout < 0, c.RestoreCheckInterval < 0:
		return errors.New("state: durations must not be negative")
	}
	return nil
}

// Deps are the service's collaborators.
type Deps struct {
	// Redis holds the live state; required.
	Redis redis.UniversalClient
	// Mongo holds the archive; required.
	Mongo *mongo.Database
	// Logger; nil means discard.
	Logger *slog.Logger
	// Meter records actor metrics; nil means no-op.
	Meter metric.Meter
	// OnPanic reports panics caught in the service's actors (the monitor's
	// error tracker); nil means they are only logged.
	OnPanic func(kind string, value any, stack []byte)
	// OnGiveUp reports an actor the service's root supervisor gave up on
	// (the monitor's error tracker); nil means it is only logged. Ready
	// fails from then on.
	OnGiveUp func(actor.GaveUp)
}

func (d Deps) validate() error {
	if d.Redis == nil {
		return errors.New("state: Deps.Redis is required")
	}
	if d.Mongo == nil {
		return errors.New("state: Deps.Mongo is required")
	}
	return nil
}
