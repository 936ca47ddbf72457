package events

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/services/analytics/internal/ledger"
)

// Entry is a stream entry for the AnalyticsTracker, told by the Reader.
type Entry struct{ Msg redis.XMessage }

// Sync is asked of the AnalyticsTracker to wait until every entry told
// before it has been handled.
type Sync struct{}

// TrackerConfig configures the AnalyticsTracker actor.
type TrackerConfig struct {
	// Client acknowledges entries.
	Client redis.UniversalClient
	// Stream and Group name the consumer group the entries came from.
	Stream, Group string
	// Counts is the ledger of the events counted per type (CountsPlan).
	Counts *ledger.Ledger
	// Sinks are the other trackers, asked with Apply, in order, before the
	// events are counted and acknowledged.
	Sinks []*actor.Ref
	// OpTimeout bounds the handling of one batch.
	OpTimeout time.Duration
	// Logger receives apply failures.
	Logger *slog.Logger
	// SkipAck leaves entries pending after applying them: a test seam for a
	// crash between apply and acknowledge.
	SkipAck bool
}

// NewTracker returns the factory of the AnalyticsTracker actor. Spawn it
// with a BatchSize so that entries are applied in groups.
func NewTracker(cfg TrackerConfig) func() actor.Actor {
	return func() actor.Actor { return &tracker{cfg: cfg} }
}

type tracker struct {
	cfg     TrackerConfig
	failing bool
}

var _ actor.BatchReceiver = (*tracker)(nil)

func (t *tracker) Receive(c *actor.Context) {
	switch m := c.Message().(type) {
	case Entry:
		t.handle(c.Context(), []redis.XMessage{m.Msg})
	case Sync:
		c.Respond(struct{}{})
	case Sweep:
		c.Respond(t.sweep(c.Context()))
	case sweepTick:
		t.sweepLogged(c.Context())
	}
}

// sweep recovers unfinished batches of every tracker (the others first,
// then the counts), each in its own actor; failures are retried at the
// next sweep.
func (t *tracker) sweep(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, t.cfg.OpTimeout)
	defer cancel()
	for _, sink := range t.cfg.Sinks {
		if _, err := sink.Ask(ctx, Sweep{}); err != nil {
			return fmt.Errorf("sweep %s: %w", sink.Name(), err)
		}
	}
	return SweepLedger(ctx, t.cfg.Counts)
}

func (t *tracker) ReceiveBatch(c *actor.Context, msgs []any) {
	batch := make([]redis.XMessage, 0, len(msgs))
	sweep := false
	for _, m := range msgs {
		switch m := m.(type) {
		case Entry:
			batch = append(batch, m.Msg)
		case sweepTick:
			sweep = true
		}
	}
	t.handle(c.Context(), batch)
	if sweep {
		t.sweepLogged(c.Context())
	}
}

func (t *tracker) sweepLogged(ctx context.Context) {
	if err := t.sweep(ctx); err != nil {
		t.cfg.Logger.Warn("recovering unfinished analytics batches failed; retrying later", "err", err)
	}
}

// handle applies a batch and acknowledges it. On failure nothing is
// acknowledged: the Reader claims the entries again after ClaimIdle, and
// what was applied already is skipped by id.
func (t *tracker) handle(ctx context.Context, batch []redis.XMessage) {
	if len(batch) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, t.cfg.OpTimeout)
	defer cancel()
	err := t.apply(ctx, batch)
	switch {
	case err != nil && !t.failing:
		t.failing = true
		t.cfg.Logger.Warn("analytics events not applied; they will be retried", "entries", len(batch), "err", err)
	case err == nil && t.failing:
		t.failing = false
		t.cfg.Logger.Info("analytics events are applied again")
	}
}

func (t *tracker) apply(ctx context.Context, batch []redis.XMessage) error {
	ids := make([]string, 0, len(batch))
	evs := make([]*pb.Event, 0, len(batch))
	seen := make(map[string]bool, len(batch))
	for _, m := range batch {
		ids = append(ids, m.ID)
		ev, err := Decode(m)
		if err != nil {
			// A malformed entry can never be applied: acknowledge it with
			// the rest rather than retry it forever.
			t.cfg.Logger.Warn("dropping malformed analytics entry", "id", m.ID, "err", err)
			continue
		}
		if seen[ev.GetId()] { // claimed twice into the same batch
			continue
		}
		seen[ev.GetId()] = true
		evs = append(evs, ev)
	}
	for _, sink := range t.cfg.Sinks {
		if _, err := sink.Ask(ctx, Apply{Events: evs}); err != nil {
			return fmt.Errorf("apply events in %s: %w", sink.Name(), err)
		}
	}
	if _, err := t.cfg.Counts.Apply(ctx, evs); err != nil {
		return err
	}
	if t.cfg.SkipAck {
		return nil
	}
	if err := t.cfg.Client.XAck(ctx, t.cfg.Stream, t.cfg.Group, ids...).Err(); err != nil {
		return fmt.Errorf("acknowledge events: %w", err)
	}
	return nil
}
