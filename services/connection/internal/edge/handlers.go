package edge

import (
	"context"
	"time"
	"unicode/utf8"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/rpc"
	"github.com/pianorhythm/server/services/connection/internal/pubsub"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Limits of the client protocol (DESIGN section 4).
const (
	maxChatRunes = 512
	lobbyID      = "lobby"
)

// handle routes one client message; every refusal is an error frame that
// echoes the message id, and the connection stays open.
func (c *conn) handle(m *pb.ClientMessage) {
	id := m.GetId()
	var err error
	switch p := m.GetPayload().(type) {
	case *pb.ClientMessage_Notes:
		err = c.handleNotes(p.Notes)
	case *pb.ClientMessage_Ping:
		c.sendMsg(id, &pb.ServerMessage{Payload: &pb.ServerMessage_Pong{Pong: &pb.Pong{
			ClientTime: p.Ping.GetClientTime(), ServerTime: time.Now().UnixMilli()}}})
	case *pb.ClientMessage_Join:
		err = c.handleJoin(id, p.Join)
	case *pb.ClientMessage_Leave:
		err = c.handleLeave(id)
	case *pb.ClientMessage_Chat:
		err = c.handleChat(id, p.Chat)
	case *pb.ClientMessage_SetProfile:
		err = c.handleSetProfile(id, p.SetProfile)
	case *pb.ClientMessage_RoomSettings:
		err = c.handleRoomSettings(id, p.RoomSettings)
	case *pb.ClientMessage_Kick:
		err = c.handleKick(id, p.Kick)
	case *pb.ClientMessage_TransferOwner:
		err = c.handleTransferOwner(id, p.TransferOwner)
	case *pb.ClientMessage_ListRooms:
		err = c.handleListRooms(id)
	case *pb.ClientMessage_Friend:
		err = c.handleFriend(id, p.Friend)
	case *pb.ClientMessage_ChatModeration:
		err = c.handleChatModeration(id, p.ChatModeration)
	default:
		err = invalid("unknown or empty message")
	}
	if err != nil {
		c.sendError(id, rpc.Reason(err), status.Convert(err).Message())
	}
}

func invalid(msg string) error { return rpc.Error(codes.InvalidArgument, "INVALID_ARGUMENT", msg) }

var errNotInRoom = rpc.Error(codes.FailedPrecondition, "NOT_IN_ROOM", "not in a room")

func (c *conn) ack(id string) {
	c.sendMsg(id, &pb.ServerMessage{Payload: &pb.ServerMessage_Ack{Ack: &pb.Ack{}}})
}

// allowJoin applies the join rate: JoinsPerSecond in any one-second window.
func (c *conn) allowJoin(now time.Time) bool {
	cut := 0
	for cut < len(c.joins) && now.Sub(c.joins[cut]) >= time.Second {
		cut++
	}
	c.joins = c.joins[cut:]
	if len(c.joins) >= c.srv.cfg.JoinsPerSecond {
		return false
	}
	c.joins = append(c.joins, now)
	return true
}

func (c *conn) handleJoin(id string, j *pb.Join) error {
	if !c.allowJoin(time.Now()) {
		return rpc.Error(codes.ResourceExhausted, "RATE_LIMITED", "too many joins")
	}
	res, err := c.join(j)
	if err != nil {
		return err
	}
	c.sendMsg(id, &pb.ServerMessage{Payload: &pb.ServerMessage_RoomJoined{RoomJoined: &pb.RoomJoined{
		Room: res.GetRoom(), Members: res.GetMembers(), ChatHistory: res.GetChatHistory(),
		WelcomeMessage: res.GetWelcomeMessage(),
	}}})
	c.updateQuota(true)
	return nil
}

// join asks the room service for a seat and moves this connection's local
// membership and subscription there. The channel is subscribed before the
// call so that no event after the join is missed.
func (c *conn) join(j *pb.Join) (*pb.JoinRoomResponse, error) {
	target := j.GetRoom()
	if target == "" {
		target = lobbyID
	}
	prefix := c.srv.cfg.KeyPrefix
	sub := c.srv.sub
	if err := sub.Subscribe(context.Background(), pubsub.RoomChannel(prefix, target)); err != nil {
		return nil, rpc.Error(codes.Unavailable, "UNAVAILABLE", "subscribe room events")
	}
	ctx, cancel := c.callCtx()
	defer cancel()
	res, err := c.srv.deps.Room.JoinRoom(ctx, &pb.JoinRoomRequest{
		RoomId: target, Password: j.GetPassword(), Create: j.GetCreate(), Settings: j.GetSettings(),
		ConnectionId: c.id, InstanceId: c.srv.cfg.InstanceID,
	})
	if err != nil {
		sub.Unsubscribe(context.Background(), pubsub.RoomChannel(prefix, target))
		return nil, err
	}
	actual := res.GetRoom().GetId()
	if actual != target { // a full lobby sent us to lobby-2
		sub.Subscribe(context.Background(), pubsub.RoomChannel(prefix, actual))
		sub.Unsubscribe(context.Background(), pubsub.RoomChannel(prefix, target))
	}
	if c.roomID == actual {
		// Rejoining the same room: keep one membership and one reference.
		sub.Unsubscribe(context.Background(), pubsub.RoomChannel(prefix, actual))
	} else {
		if c.roomID != "" {
			c.leaveRoom("moved")
		}
		c.setRoom(actual, res.GetRoom())
		c.srv.hub.Join(actual, c)
	}
	c.room = res.GetRoom()
	c.presence(true)
	if prev := res.GetPreviousConnectionId(); prev != "" && prev != c.id {
		if other := c.srv.conn(prev); other != nil {
			other.Event(seatMoved{roomID: actual})
		}
	}
	return res, nil
}

func (c *conn) setRoom(id string, room *pb.Room) {
	c.roomID, c.room = id, room
	c.roomNow.Store(&id)
}

// dropRoom forgets the current room locally (the services already know).
func (c *conn) dropRoom() {
	if c.roomID == "" {
		return
	}
	c.srv.hub.Leave(c.roomID, c.id)
	c.srv.sub.Unsubscribe(context.Background(), pubsub.RoomChannel(c.srv.cfg.KeyPrefix, c.roomID))
	c.setRoom("", nil)
}

// leaveRoom leaves the current room: locally, then at the room service.
func (c *conn) leaveRoom(reason string) {
	roomID := c.roomID
	c.dropRoom()
	ctx, cancel := c.callCtx()
	defer cancel()
	_, err := c.srv.deps.Room.LeaveRoom(ctx, &pb.LeaveRoomRequest{RoomId: roomID, ConnectionId: c.id, Reason: reason})
	if err != nil && rpc.Reason(err) != "NOT_IN_ROOM" {
		c.srv.log.Warn("leave room", "room", roomID, "err", err)
	}
}

func (c *conn) handleLeave(id string) error {
	if c.roomID == "" {
		return errNotInRoom
	}
	c.leaveRoom("left")
	c.presence(true)
	c.ack(id)
	return nil
}

func (c *conn) handleChat(id string, m *pb.ChatSend) error {
	text := m.GetText()
	switch {
	case c.roomID == "":
		return errNotInRoom
	case !utf8.ValidString(text):
		return invalid("chat text is not valid UTF-8")
	case text == "":
		return invalid("chat text is empty")
	case utf8.RuneCountInString(text) > maxChatRunes:
		return invalid("chat text is longer than 512 characters")
	}
	ctx, cancel := c.callCtx()
	defer cancel()
	if _, err := c.srv.deps.Room.SendChat(ctx, &pb.SendChatRequest{RoomId: c.roomID, Text: text}); err != nil {
		return err
	}
	c.ack(id)
	return nil
}

func (c *conn) handleSetProfile(id string, m *pb.SetProfile) error {
	ctx, cancel := c.callCtx()
	defer cancel()
	u, err := c.srv.deps.User.UpdateProfile(ctx, &pb.UpdateProfileRequest{
		DisplayName: m.Name, Color: m.Color, StatusText: m.StatusText,
	})
	if err != nil {
		return err
	}
	c.user = u
	c.ident.DisplayName = u.GetDisplayName()
	c.sendMsg(id, &pb.ServerMessage{Payload: &pb.ServerMessage_Profile{Profile: &pb.Profile{User: u}}})
	if c.roomID != "" {
		c.srv.pub.roomEvent(c.srv.cfg.KeyPrefix, &pb.RoomEvent{
			RoomId: c.roomID, EventId: newID(), At: now(), OriginInstance: c.srv.cfg.InstanceID,
			Event: &pb.RoomEvent_MemberUpdated{MemberUpdated: &pb.MemberUpdated{RoomId: c.roomID, User: u}},
		})
	}
	return nil
}

func (c *conn) handleRoomSettings(id string, m *pb.RoomSettingsChange) error {
	if c.roomID == "" {
		return errNotInRoom
	}
	ctx, cancel := c.callCtx()
	defer cancel()
	room, err := c.srv.deps.Room.UpdateRoomSettings(ctx, &pb.UpdateRoomSettingsRequest{RoomId: c.roomID, Settings: m.GetSettings()})
	if err != nil {
		return err
	}
	c.room = room
	c.updateQuota(false)
	c.sendMsg(id, &pb.ServerMessage{Payload: &pb.ServerMessage_RoomUpdated{RoomUpdated: &pb.RoomUpdated{Room: room}}})
	return nil
}

func (c *conn) handleKick(id string, m *pb.Kick) error {
	if c.roomID == "" {
		return errNotInRoom
	}
	ctx, cancel := c.callCtx()
	defer cancel()
	if _, err := c.srv.deps.Room.Kick(ctx, &pb.KickRequest{RoomId: c.roomID, UserId: m.GetUserId(), BanSeconds: m.GetBanSeconds()}); err != nil {
		return err
	}
	c.ack(id)
	return nil
}

func (c *conn) handleTransferOwner(id string, m *pb.TransferOwner) error {
	if c.roomID == "" {
		return errNotInRoom
	}
	ctx, cancel := c.callCtx()
	defer cancel()
	var (
		room *pb.Room
		err  error
	)
	if m.GetUserId() == "" {
		room, err = c.srv.deps.Room.ClaimOwnership(ctx, &pb.ClaimOwnershipRequest{RoomId: c.roomID})
	} else {
		room, err = c.srv.deps.Room.TransferOwnership(ctx, &pb.TransferOwnershipRequest{RoomId: c.roomID, UserId: m.GetUserId()})
	}
	if err != nil {
		return err
	}
	c.room = room
	c.updateQuota(true)
	c.ack(id)
	return nil
}

func (c *conn) handleListRooms(id string) error {
	ctx, cancel := c.callCtx()
	defer cancel()
	res, err := c.srv.deps.Room.ListRooms(ctx, &pb.ListRoomsRequest{})
	if err != nil {
		return err
	}
	c.sendMsg(id, &pb.ServerMessage{Payload: &pb.ServerMessage_RoomList{RoomList: &pb.RoomList{Rooms: res.GetRooms()}}})
	return nil
}

func (c *conn) handleFriend(id string, m *pb.FriendRequest) error {
	ctx, cancel := c.callCtx()
	defer cancel()
	var friends []*pb.Friend
	if m.GetUserId() == "" && m.GetAction() == pb.FriendAction_FRIEND_ACTION_UNSPECIFIED {
		res, err := c.srv.deps.User.ListFriends(ctx, &pb.ListFriendsRequest{})
		if err != nil {
			return err
		}
		friends = res.GetFriends()
	} else {
		f, err := c.srv.deps.User.UpdateFriend(ctx, &pb.UpdateFriendRequest{UserId: m.GetUserId(), Action: m.GetAction()})
		if err != nil {
			return err
		}
		friends = []*pb.Friend{f}
	}
	c.sendMsg(id, &pb.ServerMessage{Payload: &pb.ServerMessage_FriendUpdate{FriendUpdate: &pb.FriendUpdate{Friends: friends}}})
	return nil
}

func (c *conn) handleChatModeration(id string, m *pb.ChatModeration) error {
	if c.roomID == "" {
		return errNotInRoom
	}
	ctx, cancel := c.callCtx()
	defer cancel()
	var err error
	switch {
	case m.GetClear():
		_, err = c.srv.deps.Room.ClearChat(ctx, &pb.ClearChatRequest{RoomId: c.roomID})
	case m.GetMessageId() != "":
		_, err = c.srv.deps.Room.DeleteChatMessage(ctx, &pb.DeleteChatMessageRequest{RoomId: c.roomID, MessageId: m.GetMessageId()})
	default:
		err = invalid("chatModeration needs messageId or clear")
	}
	if err != nil {
		return err
	}
	c.ack(id)
	return nil
}
