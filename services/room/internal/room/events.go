package room

import (
	"context"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/propagation"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

// traceContext propagates W3C trace context into analytics events
// regardless of the process-wide propagator: Event.trace is documented as
// W3C. Room events are published by the state service.
var traceContext = propagation.TraceContext{}

func traceOf(ctx context.Context) map[string]string {
	m := propagation.MapCarrier{}
	traceContext.Inject(ctx, m)
	if len(m) == 0 {
		return nil
	}
	return m
}

// emit sends an analytics event; its loss never fails a request.
func (c *core) emit(ctx context.Context, typ pb.EventType, userID, roomID string, count int64) {
	if c.events == nil {
		return
	}
	c.events.Emit(ctx, &pb.Event{
		Id:     uuid.NewString(),
		Type:   typ,
		UserId: userID,
		RoomId: roomID,
		At:     timestamppb.New(c.now()),
		Count:  count,
		Trace:  traceOf(ctx),
	})
}

func secondsSince(t *timestamppb.Timestamp, now time.Time) int64 {
	if t == nil {
		return 0
	}
	return int64(now.Sub(t.AsTime()) / time.Second)
}
