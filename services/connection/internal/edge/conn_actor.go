package edge

import (
	"context"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/services/connection/internal/closecode"
	"github.com/pianorhythm/server/services/connection/internal/pubsub"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// MessageReceived is a decoded client message, told by the connection's
// reader to its actor (the connection id of the original design is the
// actor's own).
type MessageReceived struct{ Message *pb.ClientMessage }

// Questions the actor answers about its session (Ask).
type (
	// infoQuery is answered with the connection's *pb.Connection.
	infoQuery struct{}
	// seatQuery is answered with the connection's *pb.InstanceSeat.
	seatQuery struct{}
)

// connActor is the actor of one connection, the owner of its session.
type connActor struct {
	c *conn
	s *session
}

var (
	_ actor.Actor   = (*connActor)(nil)
	_ actor.Starter = (*connActor)(nil)
)

// Started sends the connection online at the first start (the welcome
// follows when the user's channel is subscribed, so no user event sent
// after the welcome is missed); a restart means a handler panicked mid-way,
// so the connection is closed (1011) and the client reconnects with clean
// state.
func (a *connActor) Started(*actor.Context) error {
	if a.s.started {
		a.c.fail(closecode.Internal)
		return nil
	}
	a.s.started = true
	a.own(a.goOnline)
	return nil
}

// goOnline subscribes to the user's channel and reports the presence; the
// welcome is sent when it is applied.
func (a *connActor) goOnline() work {
	c, id := a.c, a.s.ident
	return func(ctx context.Context) (func(), error) {
		sctx, cancel := context.WithTimeout(ctx, c.srv.cfg.CallTimeout)
		// The reference is kept on failure: the channel is subscribed when
		// Redis is back (the outage itself is logged once, by the watcher).
		if err := c.srv.sub.Subscribe(sctx, pubsub.UserChannel(c.srv.cfg.KeyPrefix, c.userID)); err != nil {
			c.srv.log.Debug("subscribe user channel", "user", c.userID, "err", err)
		}
		cancel()
		c.presence(ctx, id, "", true)
		return func() {
			a.s.online = true
			c.sendMsg("", &pb.ServerMessage{Payload: &pb.ServerMessage_Welcome{Welcome: &pb.Welcome{
				User: a.s.user, ConnectionId: c.id, ServerTime: time.Now().UnixMilli(), Token: a.s.guestToken,
			}}})
		}, nil
	}
}

// Receive handles client messages, the results of calls, messages from the
// ConnectionManager and events from RoomFanouts, one at a time.
func (a *connActor) Receive(ac *actor.Context) {
	c := a.c
	switch m := ac.Message().(type) {
	case MessageReceived:
		<-c.inflight
		if c.ctx.Err() != nil {
			return // closing: nothing more on the client's behalf
		}
		a.received(m.Message)
	case callDone:
		a.done(m.c)
	case SendMessage:
		if m.Frame != nil {
			c.sendFrame(m.Frame)
		}
		if m.Event != nil {
			a.handleEvent(m.Event)
		}
		ac.Respond(true)
	case infoQuery:
		ac.Respond(a.info())
	case seatQuery:
		ac.Respond(a.seat())
	default:
		a.handleEvent(m)
	}
}

// received handles one client message in its own span, the root of the
// trace that follows it through the services and Redis. Its route (the
// table in handlers.go) answers at once or returns the work of a call; the
// span ends with the answer.
func (a *connActor) received(m *pb.ClientMessage) {
	r := routeOf(m)
	ctx, span := a.c.srv.tracer.Start(context.Background(), r.span, trace.WithSpanKind(trace.SpanKindServer))
	if span.IsRecording() {
		span.SetAttributes(attribute.String("pr.connection_id", a.c.id), attribute.String("pr.user_id", a.c.userID),
			attribute.String("pr.room_id", a.s.roomID))
	}
	id := m.GetId()
	if r.inline {
		if _, err := r.handle(a, ctx, id, m); err != nil {
			a.refuse(span, id, err)
		}
		span.End()
		return
	}
	cl := &call{id: id, ctx: ctx, span: span}
	cl.prepare = func() (work, error) { return r.handle(a, ctx, id, m) }
	if err := a.enqueue(cl); err != nil {
		a.refuse(span, id, err)
		span.End()
	} // else the span ends when the call is answered
}

// own queues one of the connection's own calls; prepare runs when its
// turn comes.
func (a *connActor) own(prepare func() work) {
	a.enqueue(&call{ctx: context.Background(), prepare: func() (work, error) { return prepare(), nil }})
}
