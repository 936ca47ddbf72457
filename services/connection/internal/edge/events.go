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
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"
)

// seatMoved tells a connection that another connection of the same user
// took its seat in roomID.
type seatMoved struct{ roomID string }

// onRedis turns one Redis message into deliveries for the local
// connections it concerns. It runs on the subscriber's goroutine and never
// blocks for long: room events are Tells to a RoomFanout, user events a
// Tell to the ConnectionManager.
func (s *Server) onRedis(channel string, payload []byte) {
	kind, id := pubsub.Parse(s.cfg.KeyPrefix, channel)
	switch kind {
	case pubsub.Room:
		ev := new(pb.RoomEvent)
		if err := proto.Unmarshal(payload, ev); err != nil {
			s.log.Warn("bad room event", "channel", channel, "err", err)
			return
		}
		if ev.GetNotes() != nil && ev.GetOriginInstance() == s.cfg.InstanceID {
			return // already delivered locally
		}
		msg, event := roomMessage(ev)
		if msg == nil && event == nil {
			return
		}
		d := &fanout.Delivery{Event: event}
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
		if s.hub.Deliver(id, d) && ev.GetNotes() != nil {
			s.metrics.notesOut.Add(context.Background(), int64(len(ev.GetNotes().GetEvents())))
		}
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

// roomMessage maps a room event to the frame every member gets and the
// event (if any) that changes connection state.
func roomMessage(ev *pb.RoomEvent) (*pb.ServerMessage, any) {
	m := new(pb.ServerMessage)
	switch e := ev.GetEvent().(type) {
	case *pb.RoomEvent_Notes:
		m.Payload = &pb.ServerMessage_Notes{Notes: e.Notes}
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
	default:
		return
	}
	send := SendToUser{UserID: userID, Event: event}
	if msg != nil {
		send.Frame = codec.NewFrame(msg)
	}
	s.mgr.Tell(context.Background(), send)
}

// handleEvent applies an event to the connection's state (actor).
func (c *conn) handleEvent(ctx context.Context, ev any) {
	switch e := ev.(type) {
	case *pb.Kicked:
		if e.GetUserId() == c.ident.UserID && e.GetRoomId() == c.roomID {
			c.dropRoom()
			c.presence(ctx, true)
		}
	case *pb.OwnerChanged:
		if e.GetRoomId() == c.roomID && c.room != nil {
			c.room = proto.CloneOf(c.room)
			c.room.OwnerId = e.GetOwnerId()
			c.updateQuota(false)
		}
	case *pb.RoomUpdated:
		if e.GetRoom().GetId() == c.roomID {
			c.room = e.GetRoom()
			c.updateQuota(false)
		}
	case *pb.RoomDeleted:
		if e.GetRoomId() == c.roomID {
			c.dropRoom()
			if err := c.handleJoin(ctx, "", &pb.Join{Room: lobbyID}); err != nil {
				c.presence(ctx, true)
			}
		}
	case seatMoved:
		if e.roomID == c.roomID {
			c.dropRoom()
			c.sendMsg("", &pb.ServerMessage{Payload: &pb.ServerMessage_UserLeft{UserLeft: &pb.UserLeft{
				RoomId: e.roomID, UserId: c.ident.UserID, Reason: "moved"}}})
		}
	case *pb.User:
		c.setUser(e)
		c.memberUpdated(e)
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

func (c *conn) setUser(u *pb.User) {
	c.user = u
	name := u.GetDisplayName()
	c.ident.DisplayName = name
	c.nameNow.Store(&name)
}

// memberUpdated tells the connection's room about the user's new profile.
// The user service publishes a profile change on the user's channel only
// (UserEvent.profile); the connection that holds the user's seat in a room
// is the one owner of the room's memberUpdated, so it is published once per
// room whichever way the profile changed (WebSocket, REST, admin). A seat
// is unique per room and user, so there is no duplicate.
func (c *conn) memberUpdated(u *pb.User) {
	if c.roomID == "" {
		return
	}
	c.srv.pub.roomEvent(c.srv.cfg.KeyPrefix, &pb.RoomEvent{
		RoomId: c.roomID, EventId: newID(), At: now(), OriginInstance: c.srv.cfg.InstanceID,
		Event: &pb.RoomEvent_MemberUpdated{MemberUpdated: &pb.MemberUpdated{RoomId: c.roomID, User: u}},
	})
}
