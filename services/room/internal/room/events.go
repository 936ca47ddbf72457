package room

import (
	"context"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/propagation"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

// traceContext propagates W3C trace context into events regardless of the
// process-wide propagator: RoomEvent.trace is documented as W3C.
var traceContext = propagation.TraceContext{}

func traceOf(ctx context.Context) map[string]string {
	m := propagation.MapCarrier{}
	traceContext.Inject(ctx, m)
	if len(m) == 0 {
		return nil
	}
	return m
}

// publish sends a room event through the state service. A failure is
// logged, not returned: the change itself is already stored and the event
// is a notification (edges resynchronize on their next join).
func (c *core) publish(ctx context.Context, roomID string, set func(*pb.RoomEvent)) {
	ev := &pb.RoomEvent{
		RoomId:  roomID,
		EventId: uuid.NewString(),
		At:      timestamppb.New(c.now()),
		Trace:   traceOf(ctx),
	}
	set(ev)
	cctx, cancel := c.call(ctx)
	defer cancel()
	if _, err := c.state.PublishRoomEvent(cctx, ev); err != nil {
		c.log.WarnContext(ctx, "publish room event", "room", roomID, "err", err)
	}
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
