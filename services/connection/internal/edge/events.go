package edge

import (
	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/connection/internal/closecode"
	"github.com/pianorhythm/server/services/connection/internal/codec"
	"github.com/pianorhythm/server/services/connection/internal/pubsub"
	"google.golang.org/protobuf/proto"
)

// seatMoved tells a connection that another connection of the same user
// took its seat in roomID.
type seatMoved struct{ roomID string }

// onRedis turns one Redis message into frames for the local connections it
// concerns. It runs on the subscriber's goroutine and never blocks for long:
// every delivery is a mailbox send.
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
		if msg == nil {
			return
		}
		s.hub.Deliver(id, codec.NewFrame(msg), "", event)
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

func (s *Server) userEvent(userID string, ev *pb.UserEvent) {
	conns := s.userConns(userID)
	if len(conns) == 0 {
		return
	}
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
	var fr *codec.Frame
	if msg != nil {
		fr = codec.NewFrame(msg)
	}
	for _, c := range conns {
		if fr != nil {
			if b, err := fr.Bytes(c.format); err == nil {
				c.Send(b)
			}
		}
		if event != nil {
			c.Event(event)
		}
	}
}

// handleEvent applies an event to the connection's state (loop goroutine).
func (c *conn) handleEvent(ev any) {
	switch e := ev.(type) {
	case *pb.Kicked:
		if e.GetUserId() == c.ident.UserID && e.GetRoomId() == c.roomID {
			c.dropRoom()
			c.presence(true)
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
			if err := c.handleJoin("", &pb.Join{Room: lobbyID}); err != nil {
				c.presence(true)
			}
		}
	case seatMoved:
		if e.roomID == c.roomID {
			c.dropRoom()
			c.sendMsg("", &pb.ServerMessage{Payload: &pb.ServerMessage_UserLeft{UserLeft: &pb.UserLeft{
				RoomId: e.roomID, UserId: c.ident.UserID, Reason: "moved"}}})
		}
	case *pb.User:
		c.user = e
		c.ident.DisplayName = e.GetDisplayName()
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
