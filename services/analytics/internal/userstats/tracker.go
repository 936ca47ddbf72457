package userstats

import (
	"context"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
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
		// Only events that change a user's figures are journaled and
		// claimed: the others (a connection opened, say) cost a seat in the
		// journal and a seen mark each for nothing.
		var counted []*pb.Event
		for _, ev := range m.Events {
			if len(effects(ev)) > 0 {
				counted = append(counted, ev)
			}
		}
		_, err = t.ledger.Apply(ctx, counted)
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
