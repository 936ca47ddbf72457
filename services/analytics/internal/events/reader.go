package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pianorhythm/server/pkg/actor"
)

// ReaderConfig configures a Reader. All fields are required.
type ReaderConfig struct {
	Client          redis.UniversalClient
	Stream          string
	Group, Consumer string
	BatchSize       int
	Block           time.Duration // longest wait of one XREADGROUP
	ClaimIdle       time.Duration // pending this long is claimed from any consumer
	ClaimInterval   time.Duration // how often pending entries are claimed
	RetryBackoff    time.Duration // wait after a failed read
	Tracker         *actor.Ref
	Logger          *slog.Logger
}

// Reader feeds the stream's consumer group to the AnalyticsTracker. Run
// blocks until its context ends; the Reader is not safe for concurrent
// Runs.
type Reader struct {
	cfg     ReaderConfig
	failing bool
}

// NewReader returns a Reader; call EnsureGroup, then Run.
func NewReader(cfg ReaderConfig) *Reader { return &Reader{cfg: cfg} }

// EnsureGroup creates the stream and the consumer group if they do not
// exist. A new group starts at the beginning of the stream, so events
// written before the service ever ran are processed too.
func (r *Reader) EnsureGroup(ctx context.Context) error {
	err := r.cfg.Client.XGroupCreateMkStream(ctx, r.cfg.Stream, r.cfg.Group, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("create consumer group %s on %s: %w", r.cfg.Group, r.cfg.Stream, err)
	}
	return nil
}

// Run reads until ctx ends, then returns nil. It first takes back what
// this consumer had pending and what other consumers left pending longer
// than ClaimIdle (a crash between apply and acknowledge), then reads new
// entries, claiming stale ones again every ClaimInterval.
func (r *Reader) Run(ctx context.Context) error {
	lastClaim := time.Time{}
	own := true // this consumer's own pending entries, read once at start
	for ctx.Err() == nil {
		var err error
		switch {
		case own:
			err = r.readOwnPending(ctx)
			own = err != nil
		case time.Since(lastClaim) >= r.cfg.ClaimInterval:
			if err = r.claim(ctx); err == nil {
				lastClaim = time.Now()
				// Unfinished batches in MongoDB are finished on the same
				// beat as stale entries are claimed.
				err = r.cfg.Tracker.Tell(ctx, sweepTick{})
			}
		default:
			err = r.readNew(ctx)
		}
		if err != nil && ctx.Err() == nil {
			r.failed(err)
			if isNoGroup(err) {
				_ = r.EnsureGroup(ctx) // the stream was deleted; the next read reports a failure
			}
			select {
			case <-ctx.Done():
			case <-time.After(r.cfg.RetryBackoff):
			}
			continue
		}
		r.recovered()
	}
	return nil
}

func (r *Reader) readNew(ctx context.Context) error {
	res, err := r.cfg.Client.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group:    r.cfg.Group,
		Consumer: r.cfg.Consumer,
		Streams:  []string{r.cfg.Stream, ">"},
		Count:    int64(r.cfg.BatchSize),
		Block:    r.cfg.Block,
	}).Result()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", r.cfg.Stream, err)
	}
	for _, s := range res {
		if err := r.deliver(ctx, s.Messages); err != nil {
			return err
		}
	}
	return nil
}

// readOwnPending re-delivers what was read under this consumer name and
// never acknowledged (a restart with a fixed Consumer name).
func (r *Reader) readOwnPending(ctx context.Context) error {
	start := "0"
	for ctx.Err() == nil {
		res, err := r.cfg.Client.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group:    r.cfg.Group,
			Consumer: r.cfg.Consumer,
			Streams:  []string{r.cfg.Stream, start},
			Count:    int64(r.cfg.BatchSize),
			Block:    -1,
		}).Result()
		if errors.Is(err, redis.Nil) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read own pending entries of %s: %w", r.cfg.Stream, err)
		}
		if len(res) == 0 || len(res[0].Messages) == 0 {
			return nil
		}
		msgs := res[0].Messages
		if err := r.deliver(ctx, msgs); err != nil {
			return err
		}
		start = msgs[len(msgs)-1].ID
	}
	return ctx.Err()
}

// claim takes over entries pending longer than ClaimIdle in any consumer.
func (r *Reader) claim(ctx context.Context) error {
	start := "0-0"
	for ctx.Err() == nil {
		msgs, next, err := r.cfg.Client.XAutoClaim(ctx, &redis.XAutoClaimArgs{
			Stream:   r.cfg.Stream,
			Group:    r.cfg.Group,
			Consumer: r.cfg.Consumer,
			MinIdle:  r.cfg.ClaimIdle,
			Start:    start,
			Count:    int64(r.cfg.BatchSize),
		}).Result()
		if err != nil {
			return fmt.Errorf("claim pending entries of %s: %w", r.cfg.Stream, err)
		}
		if err := r.deliver(ctx, msgs); err != nil {
			return err
		}
		if next == "0-0" || next == "" {
			return nil
		}
		start = next
	}
	return ctx.Err()
}

// deliver tells entries to the tracker; a full mailbox blocks the Reader,
// which is the back pressure on reading.
func (r *Reader) deliver(ctx context.Context, msgs []redis.XMessage) error {
	for _, m := range msgs {
		if err := r.cfg.Tracker.Tell(ctx, Entry{Msg: m}); err != nil {
			return fmt.Errorf("hand entry to tracker: %w", err)
		}
	}
	return nil
}

func (r *Reader) failed(err error) {
	if !r.failing {
		r.failing = true
		r.cfg.Logger.Warn("reading analytics events failed; retrying", "stream", r.cfg.Stream, "err", err)
	}
}

func (r *Reader) recovered() {
	if r.failing {
		r.failing = false
		r.cfg.Logger.Info("reading analytics events again", "stream", r.cfg.Stream)
	}
}

func isNoGroup(err error) bool { return strings.Contains(err.Error(), "NOGROUP") }
