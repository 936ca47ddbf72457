package analyticssvc

import (
	"errors"
	"fmt"
	"github.com/pianorhythm/server/pkg/actor"
	"log/slog"
	"os"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.opentelemetry.io/otel/metric"
)

// Config configures the service. Every zero value has a documented default.
type Config struct {
	// KeyPrefix starts every Redis key of the service (not the stream);
	// zero value means "pr:". Tests use storetest.Prefix.
	KeyPrefix string
	// Stream is the Redis stream of events. Zero value means
	// "analytics:events": the zero value of track.Config.Stream, so emitters
	// and this service agree without configuration. It is not under
	// KeyPrefix, because emitters do not know the prefix; whoever sets one
	// side sets the other to the same name.
	Stream string
	// StreamMaxLen caps the stream when Track writes to it (XADD MAXLEN ~),
	// as pkg/track does; zero value means 100000.
	StreamMaxLen int64
	// Group is the consumer group; replicas share it to split the work.
	// Zero value means "analytics".
	Group string
	// Consumer names this replica in the group; zero value means
	// "<hostname>-<pid>". A fixed name lets a restarted replica take back
	// its own pending entries at once instead of after ClaimIdle.
	Consumer string
	// BatchSize is the most entries read at once and applied in one batch
	// (the AnalyticsTracker's actor BatchSize); zero value means 100.
	BatchSize int
	// BlockTime is the longest a read waits for new entries; it also bounds
	// how long Close waits for the reader. Zero value means 1s.
	BlockTime time.Duration
	// ClaimIdle is how long an entry may stay pending (read, not
	// acknowledged) before another consumer claims it; zero value means 1m.
	ClaimIdle time.Duration
	// ClaimInterval is how often pending entries are claimed (also at
	// start); zero value means 30s.
	ClaimInterval time.Duration
	// SeenTTL is how long an event id is remembered as applied (in
	// MongoDB); an entry redelivered later than that would count again. It
	// must exceed ClaimIdle. Zero value means 48h.
	SeenTTL time.Duration
	// OpTimeout bounds one request's or one batch's store work; zero value
	// means 5s.
	OpTimeout time.Duration
	// StartTimeout bounds New's store work (indexes, seed songs, consumer
	// group); zero value means 30s.
	StartTimeout time.Duration
	// NoSeed leaves an empty song catalogue empty; zero value seeds a few
	// public-domain songs.
	NoSeed bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// skipAck is a test seam: apply entries but never acknowledge them, as
	// if the process died between the two.
	skipAck bool
}

func (c Config) withDefaults() Config {
	if c.KeyPrefix == "" {
		c.KeyPrefix = "pr:"
	}
	if c.Stream == "" {
		c.Stream = "analytics:events"
	}
	if c.StreamMaxLen == 0 {
		c.StreamMaxLen = 100000
	}
	if c.Group == "" {
		c.Group = "analytics"
	}
	if c.Consumer == "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			host = "analytics"
		}
		c.Consumer = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if c.BatchSize == 0 {
		c.BatchSize = 100
	}
	if c.BlockTime == 0 {
		c.BlockTime = time.Second
	}
	if c.ClaimIdle == 0 {
		c.ClaimIdle = time.Minute
	}
	if c.ClaimInterval == 0 {
		c.ClaimInterval = 30 * time.Second
	}
	if c.SeenTTL == 0 {
		c.SeenTTL = 48 * time.Hour
	}
	if c.OpTimeout == 0 {
		c.OpTimeout = 5 * time.Second
	}
	if c.StartTimeout == 0 {
		c.StartTimeout = 30 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// staleAfter is how old an unfinished batch journal must be before a sweep
// finishes it: past any live batch (OpTimeout bounds one) and past
// ClaimIdle, after which its entries are redelivered anyway.
func (c Config) staleAfter() time.Duration { return max(c.ClaimIdle, 2*c.OpTimeout) }

// Validate reports a configuration New cannot use (after defaults).
func (c Config) Validate() error {
	switch {
	case c.BatchSize < 1 || c.BatchSize > 10000:
		return errors.New("analytics: BatchSize must be 1-10000")
	case c.StreamMaxLen < 1:
		return errors.New("analytics: StreamMaxLen must be positive")
	case c.BlockTime < time.Millisecond:
		// BLOCK 0 would wait forever and Close could not stop the reader.
		return errors.New("analytics: BlockTime must be at least 1ms")
	case c.ClaimIdle < 0, c.ClaimInterval <= 0, c.OpTimeout <= 0, c.StartTimeout <= 0:
		return errors.New("analytics: durations must be positive")
	case c.SeenTTL <= c.ClaimIdle:
		return errors.New("analytics: SeenTTL must exceed ClaimIdle, or claimed entries would count twice")
	}
	return nil
}

// Deps are the service's collaborators.
type Deps struct {
	// Redis holds the stream, the leaderboards' cache and the users'
	// channels (achievement notifications); required. It may come back
	// empty: nothing lasting lives there.
	Redis redis.UniversalClient
	// Mongo holds every figure (totals, scores, achievements, event
	// counts, songs and their stats) and the idempotency ledger; required.
	Mongo *mongo.Database
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// Meter records actor metrics; nil means no-op.
	Meter metric.Meter
	// OnPanic reports panics caught in the service's actors (the monitor's
	// error tracker); nil means they are only logged.
	OnPanic func(kind string, value any, stack []byte)
	// OnGiveUp reports an actor the service's root supervisor gave up on;
	// nil means it is only logged. Ready fails from then on.
	OnGiveUp func(actor.GaveUp)
}

func (d Deps) validate() error {
	if d.Redis == nil {
		return errors.New("analytics: Deps.Redis is required")
	}
	if d.Mongo == nil {
		return errors.New("analytics: Deps.Mongo is required")
	}
	return nil
}
