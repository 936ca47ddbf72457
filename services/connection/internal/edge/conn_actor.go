package edge

import (
	"context"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/pkg/rpc"
	"github.com/pianorhythm/server/services/connection/internal/closecode"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/status"
)

// MessageReceived is a decoded client message, told by the connection's
// reader to its actor (the connection id of the original design is the
// actor's own).
type MessageReceived struct{ Message *pb.ClientMessage }

// connActor is the actor of one connection. The instance is a thin view:
// the state is the conn's, because a socket cannot be reloaded from
// storage. That is also why a restart closes the connection.
type connActor struct{ c *conn }

var (
	_ actor.Actor   = (*connActor)(nil)
	_ actor.Starter = (*connActor)(nil)
)

// Started greets the client at the first start; a restart means a handler
// panicked mid-way, so the connection is closed (1011) and the client
// reconnects with clean state.
func (a *connActor) Started(*actor.Context) error {
	c := a.c
	if c.started {
		c.fail(closecode.Internal)
		return nil
	}
	c.started = true
	c.online()
	c.sendMsg("", &pb.ServerMessage{Payload: &pb.ServerMessage_Welcome{Welcome: &pb.Welcome{
		User: c.user, ConnectionId: c.id, ServerTime: time.Now().UnixMilli(), Token: c.guestToken,
	}}})
	return nil
}

// Receive handles client messages, messages from the ConnectionManager and
// events from RoomFanouts, one at a time.
func (a *connActor) Receive(ac *actor.Context) {
	c := a.c
	switch m := ac.Message().(type) {
	case MessageReceived:
		<-c.inflight
		if c.ctx.Err() != nil {
			return // closing: nothing more on the client's behalf
		}
		c.received(m.Message)
	case SendMessage:
		if m.Frame != nil {
			if b, err := m.Frame.Bytes(c.format); err == nil {
				c.q.Push(b)
			}
		}
		if m.Event != nil {
			c.handleEvent(ac.Context(), m.Event)
		}
		ac.Respond(true)
	default:
		c.handleEvent(ac.Context(), m)
	}
}

// received handles one client message in its own span, the root of the
// trace that follows it through the services and Redis.
func (c *conn) received(m *pb.ClientMessage) {
	ctx, span := c.srv.tracer.Start(context.Background(), messageName(m), trace.WithSpanKind(trace.SpanKindServer))
	if span.IsRecording() {
		span.SetAttributes(attribute.String("pr.connection_id", c.id), attribute.String("pr.user_id", c.ident.UserID),
			attribute.String("pr.room_id", c.roomID))
	}
	if err := c.handle(ctx, m); err != nil {
		reason := rpc.Reason(err)
		if span.IsRecording() {
			span.SetAttributes(attribute.String("pr.error", reason))
			if reason == "INTERNAL" || reason == "UNAVAILABLE" {
				span.SetStatus(codes.Error, status.Convert(err).Message())
			}
		}
		c.sendError(m.GetId(), reason, status.Convert(err).Message())
	}
	span.End()
}
