package edge

import (
	"context"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/telemetry"
	"github.com/pianorhythm/server/services/connection/internal/closecode"
	"github.com/pianorhythm/server/services/connection/internal/codec"
	"github.com/pianorhythm/server/services/connection/internal/fanout"
	"github.com/pianorhythm/server/services/connection/internal/pubsub"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"
)

// Events a connection's actor gets from the edge itself.
type (
	// seatMoved tells a connection that another connection of the same
	// user took its seat in roomID.
	seatMoved struct{ roomID string }
	// roomLost tells the members of a room that Redis lost and the state
	// service could not restore (RestoreInstance's lost_room_ids).
	roomLost struct{ roomID string }
)

// roomLostReason is the Kicked.reason of a member of a lost room.
const roomLostReason = "room lost"

// Attributes of edge.fanout.dropped, made once.
var (
	droppedNotes  = metric.WithAttributes(attribute.String("kind", "notes"))
	droppedEvents = metric.WithAttributes(attribute.String("kind", "event"))
)

// onRedis turns one Redis message into deliveries for the local
// connections it concerns. It runs on the subscriber's goroutine, the one
// dispatcher of every room, and never waits: room events go to a
// RoomFanout (Deliver never blocks), user events to the ConnectionManager.
func (s *Server) onRedis(channel string, payload []byte) {
	kind, id := pubsub.Parse(s.cfg.KeyPrefix, channel)
	switch kind {
	case pubsub.Room:
		ev := new(pb.RoomEvent)
		if err := proto.Unmarshal(payload, ev); err != nil {
			s.log.Warn("bad room event", "channel", channel, "err", err)
			return
		}
		relayed := ev.GetNotes() != nil || ev.GetCursor() != nil
		if relayed && ev.GetOriginInstance() == s.cfg.InstanceID {
			return // already delivered locally
		}
		if !relayed {
			// A membership change (perhaps someone joining through another
			// instance, subscribed before its join): the publisher asks
			// Redis again who listens before it next skips a publish, so
			// the newcomer hears every note played after it is announced.
			s.pub.forget(channel)
		}
		msg, event := roomMessage(ev)
		if msg == nil && event == nil {
			return
		}
		d := &fanout.Delivery{Event: event, Lossy: relayed}
		if msg != nil {
			d.Frame = codec.NewFrame(msg)
		}
		// An event that carries a trace continues it: the fan-out is a
		// child of the span that published it (on whichever instance).
		var span trace.Span
		if len(ev.GetTrace()) > 0 {
			ctx := telemetry.ExtractMap(context.Background(), ev.GetTrace())
			_, span = s.tracer.Start(ctx, "fanout", trace.WithSpanKind(trace.SpanKindConsumer))
			if span.IsRecording() {
				span.SetAttributes(attribute.String("pr.room_id", id), attribute.String("pr.instance_id", s.cfg.InstanceID))
			}
		}
		s.delivered(id, d, len(ev.GetNotes().GetEvents()))
		if span != nil {
			span.End()
		}
	case pubsub.User:
		ev := new(pb.UserEvent)
		if err := proto.Unmarshal(payload, ev); err != nil {
			s.log.Warn("bad user event", "channel", channel, "err", err)
			return
		}
		s.userEvent(id, ev)
	}
}

// delivered hands d to roomID's fan-out and counts what became of it;
// notes is the number of note events d carries.
func (s *Server) delivered(roomID string, d *fanout.Delivery, notes int) {
	ctx := context.Background()
	switch s.hub.Deliver(roomID, d) {
	case fanout.Delivered:
		if notes > 0 {
			s.metrics.notesOut.Add(ctx, int64(notes))
		}
	case fanout.Dropped:
		if d.Lossy {
			s.metrics.fanoutDropped.Add(ctx, int64(notes), droppedNotes)
		} else {
			s.metrics.fanoutDropped.Add(ctx, 1, droppedEvents)
			s.log.Error("room fan-out full: state event dropped, its members will resync", "room", roomID)
		}
	}
}

// roomMessage maps a room event to the frame every member gets and the
// event (if any) that changes connection state.
func roomMessage(ev *pb.RoomEvent) (*pb.ServerMessage, any) {
	m := new(pb.ServerMessage)
	switch e := ev.GetEvent().(type) {
	case *pb.RoomEvent_Notes:
		m.Payload = &pb.ServerMessage_Notes{Notes: e.Notes}
		return m, nil
	case *pb.RoomEvent_Cursor:
		m.Payload = &pb.ServerMessage_Cursor{Cursor: e.Cursor}
		return m, nil
	case *pb.RoomEvent_Chat:
		m.Payload = &pb.ServerMessage_Chat{Chat: e.Chat}
		return m, nil
	case *pb.RoomEvent_UserJoined:
		m.Payload = &pb.ServerMessage_UserJoined{UserJoined: e.UserJoined}
		return m, nil
	case *pb.RoomEvent_UserLeft:
		m.Payload = &pb.ServerMessage_UserLeft{UserLeft: e.UserLeft}
		return m, nil
	case *pb.RoomEvent_MemberUpdated:
		m.Payload = &pb.ServerMessage_MemberUpdated{MemberUpdated: e.MemberUpdated}
		return m, nil
	case *pb.RoomEvent_ChatDeleted:
		m.Payload = &pb.ServerMessage_ChatDeleted{ChatDeleted: e.ChatDeleted}
		return m, nil
	case *pb.RoomEvent_ChatCleared:
		m.Payload = &pb.ServerMessage_ChatCleared{ChatCleared: e.ChatCleared}
		return m, nil
	case *pb.RoomEvent_RoomUpdated:
		m.Payload = &pb.ServerMessage_RoomUpdated{RoomUpdated: e.RoomUpdated}
		return m, e.RoomUpdated
	case *pb.RoomEvent_OwnerChanged:
		m.Payload = &pb.ServerMessage_OwnerChanged{OwnerChanged: e.OwnerChanged}
		return m, e.OwnerChanged
	case *pb.RoomEvent_Kicked:
		m.Payload = &pb.ServerMessage_Kicked{Kicked: e.Kicked}
		return m, e.Kicked
	case *pb.RoomEvent_RoomDeleted:
		// Members are told by the roomJoined of the lobby they are sent to.
		return nil, e.RoomDeleted
	}
	return nil, nil
}

// userEvent hands a user event to the ConnectionManager, which sends it to
// each of the user's local connections.
func (s *Server) userEvent(userID string, ev *pb.UserEvent) {
	var msg *pb.ServerMessage
	var event any
	switch e := ev.GetEvent().(type) {
	case *pb.UserEvent_FriendUpdate:
		msg = &pb.ServerMessage{Payload: &pb.ServerMessage_FriendUpdate{FriendUpdate: &pb.FriendUpdate{Friends: []*pb.Friend{e.FriendUpdate}}}}
	case *pb.UserEvent_Profile:
		msg = &pb.ServerMessage{Payload: &pb.ServerMessage_Profile{Profile: &pb.Profile{User: e.Profile}}}
		event = e.Profile
	case *pb.UserEvent_Disconnect:
		event = e.Disconnect
	case *pb.UserEvent_Achievement:
		msg = &pb.ServerMessage{Payload: &pb.ServerMessage_Achievement{Achievement: e.Achievement}}
	default:
		return
	}
	send := SendToUser{UserID: userID, Event: event}
	if msg != nil {
		send.Frame = codec.NewFrame(msg)
	}
	s.mgr.Tell(context.Background(), send)
}

// handleEvent applies an event to the session; what must wait (a presence
// update, a join) becomes one of the connection's own calls.
func (a *connActor) handleEvent(ev any) {
	c, s := a.c, a.s
	switch e := ev.(type) {
	case *pb.Kicked:
		if e.GetUserId() == c.userID && e.GetRoomId() == s.roomID {
			a.dropRoom()
			if c.mpp != nil {
				a.toLobby() // MPP clients expect to be in a channel
			} else {
				a.own(a.presenceNow)
			}
		}
	case *pb.OwnerChanged:
		if e.GetRoomId() == s.roomID && s.room != nil {
			s.room = proto.CloneOf(s.room)
			s.room.OwnerId = e.GetOwnerId()
			a.updateQuota(false)
		}
	case *pb.RoomUpdated:
		a.roomChanged(e.GetRoom(), false)
	case *pb.RoomDeleted:
		if e.GetRoomId() == s.roomID {
			a.dropRoom()
			a.toLobby()
		}
	case roomLost:
		if e.roomID == s.roomID {
			a.dropRoom()
			c.sendMsg("", &pb.ServerMessage{Payload: &pb.ServerMessage_Kicked{Kicked: &pb.Kicked{
				RoomId: e.roomID, UserId: c.userID, Reason: roomLostReason}}})
			if c.mpp != nil {
				a.toLobby()
			} else {
				a.own(a.presenceNow)
			}
		}
	case seatMoved:
		if e.roomID == s.roomID {
			a.dropRoom()
			c.sendMsg("", &pb.ServerMessage{Payload: &pb.ServerMessage_UserLeft{UserLeft: &pb.UserLeft{
				RoomId: e.roomID, UserId: c.userID, Reason: "moved"}}})
		}
	case fanout.Resync:
		if e.RoomID == s.roomID || e.RoomID == s.pending {
			c.fail(closecode.Slow.WithReason("room events lost"))
		}
	case *pb.User:
		a.setUser(e)
	case *pb.Disconnect:
		code := closecode.Of(int(e.GetCode()))
		if e.GetCode() == 0 {
			code = closecode.Banned
		}
		if e.GetReason() != "" {
			code = code.WithReason(e.GetReason())
		}
		c.fail(code)
	}
}

// toLobby sends the connection to the lobby as one of its own calls; when
// the lobby refuses, it is in no room and the presence says so. An MPP
// client is told why (its notification names the failed "ch").
func (a *connActor) toLobby() {
	id := ""
	if a.c.mpp != nil {
		id = "ch"
	}
	a.enqueue(&call{id: id, tell: a.c.mpp != nil, ctx: context.Background(), prepare: func() (work, error) {
		w, err := a.join(id, &pb.Join{Room: lobbyID})
		if err != nil {
			return a.presenceNow(), nil
		}
		return w, nil
	}})
}

// presenceNow is the work of reporting the presence as the session is now.
func (a *connActor) presenceNow() work {
	c, ident, roomID := a.c, a.s.ident, a.s.roomID
	return func(ctx context.Context) (func(), error) {
		c.presence(ctx, ident, roomID, true)
		return nil, nil
	}
}
