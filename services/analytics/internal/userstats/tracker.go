package userstats

import (
	"context"
	"time"

	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/services/analytics/internal/events"
)

// NewTracker returns the factory of the UserStatsTracker actor. It answers
// events.Apply with nil once the events are in Redis, or the error.
func NewTracker(store *Store, opTimeout time.Duration) func() actor.Actor {
	return func() actor.Actor { return &tracker{store: store, opTimeout: opTimeout} }
}

type tracker struct {
	store     *Store
	opTimeout time.Duration
}

func (t *tracker) Receive(c *actor.Context) {
	if m, ok := c.Message().(events.Apply); ok {
		ctx, cancel := context.WithTimeout(c.Context(), t.opTimeout)
		defer cancel()
		if err := t.store.Apply(ctx, m.Events); err != nil {
			c.Respond(err)
			return
		}
		c.Respond(nil)
	}
}
