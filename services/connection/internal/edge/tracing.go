package edge

import (
	"context"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/telemetry"
	"go.opentelemetry.io/otel/trace"
)

// tracerName names the edge's tracer.
const tracerName = "github.com/pianorhythm/server/services/connection/edge"

// messageName is the span name of a client message: constant strings, so
// naming a span allocates nothing.
func messageName(m *pb.ClientMessage) string {
	switch m.GetPayload().(type) {
	case *pb.ClientMessage_Notes:
		return "ws.notes"
	case *pb.ClientMessage_Ping:
		return "ws.ping"
	case *pb.ClientMessage_Join:
		return "ws.join"
	case *pb.ClientMessage_Leave:
		return "ws.leave"
	case *pb.ClientMessage_Chat:
		return "ws.chat"
	case *pb.ClientMessage_SetProfile:
		return "ws.setProfile"
	case *pb.ClientMessage_RoomSettings:
		return "ws.roomSettings"
	case *pb.ClientMessage_Kick:
		return "ws.kick"
	case *pb.ClientMessage_TransferOwner:
		return "ws.transferOwner"
	case *pb.ClientMessage_ListRooms:
		return "ws.listRooms"
	case *pb.ClientMessage_Friend:
		return "ws.friend"
	case *pb.ClientMessage_ChatModeration:
		return "ws.chatModeration"
	}
	return "ws.unknown"
}

// traceOf is ctx's W3C trace context for a Redis message; nil (and no
// work) when ctx carries no valid span.
func traceOf(ctx context.Context) map[string]string {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return nil
	}
	return telemetry.InjectMap(ctx)
}
