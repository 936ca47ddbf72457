package engine

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/propagation"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/services/state/internal/archive"
	"github.com/pianorhythm/server/services/state/internal/live"
)

// Engine joins the live store, the archive and the archive writer actor.
type Engine struct {
	Live    *live.Store
	Archive *archive.Archive
	// Writer is the archive.Writer actor; what must last goes through it
	// in order.
	Writer *actor.Ref
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// ChatKeep is how many messages a room keeps in Redis.
	ChatKeep int
	Logger   *slog.Logger
}

// Clock returns the engine's current time.
func (e *Engine) Clock() time.Time { return e.now() }

func (e *Engine) now() time.Time {
	if e.Now == nil {
		return time.Now()
	}
	return e.Now()
}

// archive queues a write for MongoDB. The writer's mailbox blocks when
// full, so a slow MongoDB slows writers down instead of losing changes.
func (e *Engine) archive(ctx context.Context, msg any) error {
	return e.Writer.Tell(ctx, msg)
}

// flushed asks the writer to write what is pending, so a read from the
// archive sees every change made before it.
func (e *Engine) flushed(ctx context.Context) error {
	_, err := e.Writer.Ask(ctx, archive.Flush{})
	return err
}

// traceContext propagates W3C trace context into events regardless of the
// process-wide propagator: RoomEvent.trace is documented as W3C.
var traceContext = propagation.TraceContext{}

// event builds a room event stamped with an id, the time and the trace of
// ctx, marshalled for publishing.
func (e *Engine) event(ctx context.Context, roomID string, set func(*pb.RoomEvent)) []byte {
	ev := &pb.RoomEvent{RoomId: roomID, EventId: uuid.NewString(), At: timestamppb.New(e.now())}
	m := propagation.MapCarrier{}
	traceContext.Inject(ctx, m)
	if len(m) > 0 {
		ev.Trace = m
	}
	set(ev)
	b, err := proto.Marshal(ev)
	if err != nil {
		panic("marshal room event: " + err.Error()) // generated messages always marshal
	}
	return b
}
