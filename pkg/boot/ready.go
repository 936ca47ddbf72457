package boot

import (
	"context"
	"fmt"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
)

// ReadyWhen makes the program's health follow ready (the service's own
// check: its key actors answer, its actor system gave up on nothing):
// Serve asks it every second and reports NOT_SERVING while it fails.
func (p *Program) ReadyWhen(ready func(context.Context) error) { p.ready = ready }

// ActorGaveUp reports an actor the service's root supervisor gave up on to
// the monitor's error tracker (if one is configured); it fits
// actor.Config.OnGiveUp. The service's health turns NOT_SERVING through
// ReadyWhen.
func (p *Program) ActorGaveUp(g actor.GaveUp) {
	p.report(&pb.ErrorReport{
		Service: p.Name, Message: fmt.Sprintf("gave up on actor %s (%s): %v", g.Name, g.Kind, g.Err),
		Attributes: map[string]string{"gave_up": "true", "actor": g.Name, "kind": g.Kind},
	})
}
