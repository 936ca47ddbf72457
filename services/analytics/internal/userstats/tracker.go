package userstats

import (
	"context"
	"time"

	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/services/analytics/internal/events"
	"github.com/pianorhythm/server/services/analytics/internal/ledger"
)

// NewTracker returns the factory of the UserStatsTracker actor. It
// answers events.Apply with nil once the events are applied (in MongoDB,
// once per event id), and events.Sweep once unfinished batches are
// recovered and old seen marks expired; or with the error. Being the one
// writer of its documents matters on the embedded FerretDB, which loses
// concurrent updates of one document.
func NewTracker(l *ledger.Ledger, opTimeout time.Duration) func() actor.Actor {
	return func() actor.Actor { return &tracker{ledger: l, opTimeout: opTimeout} }
}

type tracker struct {
	ledger    *ledger.Ledger
	opTimeout time.Duration
}

func (t *tracker) Receive(c *actor.Context) {
	var err error
	switch m := c.Message().(type) {
	case events.Apply:
		ctx, cancel := context.WithTimeout(c.Context(), t.opTimeout)
		defer cancel()
		_, err = t.ledger.Apply(ctx, m.Events)
	case events.Sweep:
		ctx, cancel := context.WithTimeout(c.Context(), t.opTimeout)
		defer cancel()
		err = events.SweepLedger(ctx, t.ledger)
	default:
		return
	}
	if err != nil {
		c.Respond(err)
		return
	}
	c.Respond(nil)
}
