package edge

import (
	"context"
	"time"
	"unicode/utf8"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/rpc"
	"github.com/pianorhythm/server/services/connection/internal/pubsub"
)

// Limits of the client protocol (DESIGN section 4).
const (
	maxChatRunes = 512
	lobbyID      = "lobby"
)

// handle routes one client message; every refusal is an error returned
// for an error frame that echoes the message id, and the connection stays
// open.
func (c *conn) handle(ctx context.Context, m *pb.ClientMessage) error {
	id := m.GetId()
	var err error
	switch p := m.GetPayload().(type) {
	case *pb.ClientMessage_Notes:
		err = c.handleNotes(ctx, p.Notes)
	case *pb.ClientMessage_Ping:
		c.sendMsg(id, &pb.ServerMessage{Payload: &pb.ServerMessage_Pong{Pong: &pb.Pong{
			ClientTime: p.Ping.GetClientTime(), ServerTime: time.Now().UnixMilli()}}})
	case *pb.ClientMessage_Join:
		err = c.handleJoin(ctx, id, p.Join)
	case *pb.ClientMessage_Leave:
		err = c.handleLeave(ctx, id)
	case *pb.ClientMessage_Chat:
		err = c.handleChat(ctx, id, p.Chat)
	case *pb.ClientMessage_SetProfile:
		err = c.handleSetProfile(ctx, id, p.SetProfile)
	case *pb.ClientMessage_RoomSettings:
		err = c.handleRoomSettings(ctx, id, p.RoomSettings)
	case *pb.ClientMessage_Kick:
		err = c.handleKick(ctx, id, p.Kick)
	case *pb.ClientMessage_TransferOwner:
		err = c.handleTransferOwner(ctx, id, p.TransferOwner)
	case *pb.ClientMessage_ListRooms:
		err = c.handleListRooms(ctx, id)
	case *pb.ClientMessage_Friend:
		err = c.handleFriend(ctx, id, p.Friend)
	case *pb.ClientMessage_ChatModeration:
		err = c.handleChatModeration(ctx, id, p.ChatModeration)
	default:
		err = invalid("unknown or empty message")
	}
	return err
}

func invalid(msg string) error { return rpc.Refuse(pb.ErrorReason_INVALID_ARGUMENT, msg) }

var errNotInRoom = rpc.Refuse(pb.ErrorReason_NOT_IN_ROOM, "not in a room")

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

func (c *conn) handleJoin(ctx context.Context, id string, j *pb.Join) error {
	if !c.allowJoin(time.Now()) {
		return rpc.Refuse(pb.ErrorReason_RATE_LIMITED, "too many joins")
	}
	res, err := c.join(ctx, j)
	if err != nil {
		return err
	}
	c.sendMsg(id, &pb.ServerMessage{Payload: &pb.ServerMessage_RoomJoined{RoomJoined: &pb.RoomJoined{
		Room: res.GetRoom(), Members: res.GetMembers(), ChatHistory: res.GetChatHistory(),
		WelcomeMessage: res.GetWelcomeMessage(),
	}}})
	// After roomJoined is queued: what the room held for us follows it.
	c.srv.hub.Activate(c.roomID, c.id)
	c.updateQuota(true)
	return nil
}

// join asks the room service for a seat and moves this connection's local
// membership and subscription there. Both are taken before the call (the
// local membership as pending, holding frames until Activate), so no event
// published between the room service's commit and our reply is missed; a
// failed join drops them.
func (c *conn) join(ctx context.Context, j *pb.Join) (*pb.JoinRoomResponse, error) {
	target := j.GetRoom()
	if target == "" {
		target = lobbyID
	}
	prefix, sub, hub := c.srv.cfg.KeyPrefix, c.srv.sub, c.srv.hub
	bg := context.Background()
	if err := sub.Subscribe(ctx, pubsub.RoomChannel(prefix, target)); err != nil {
		return nil, rpc.Refuse(pb.ErrorReason_UNAVAILABLE, "subscribe room events")
	}
	member := c.roomID == target // rejoining: the membership stays as it is
	hub.JoinPending(target, c)
	cctx, cancel := c.callCtx(ctx)
	defer cancel()
	res, err := c.srv.deps.Room.JoinRoom(cctx, &pb.JoinRoomRequest{
		RoomId: target, Password: j.GetPassword(), Create: j.GetCreate(), Settings: j.GetSettings(),
		ConnectionId: c.id, InstanceId: c.srv.cfg.InstanceID,
	})
	if err != nil {
		if !member {
			hub.Leave(target, c.id)
		}
		sub.Unsubscribe(bg, pubsub.RoomChannel(prefix, target))
		return nil, err
	}
	actual := res.GetRoom().GetId()
	if actual != target {
		// A full lobby sent us to lobby-2: that room's events from before
		// this point are not held (a rare case; the member list is fresh).
		sub.Subscribe(bg, pubsub.RoomChannel(prefix, actual))
		sub.Unsubscribe(bg, pubsub.RoomChannel(prefix, target))
		if !member {
			hub.Leave(target, c.id)
		}
		hub.JoinPending(actual, c)
	}
	if c.roomID == actual {
		// Rejoining the same room: keep one membership and one reference.
		sub.Unsubscribe(bg, pubsub.RoomChannel(prefix, actual))
	} else {
		if c.roomID != "" {
			c.leaveRoom(ctx, "moved")
		}
		c.setRoom(actual, res.GetRoom())
	}
	c.room = res.GetRoom()
	c.presence(ctx, true)
	if prev := res.GetPreviousConnectionId(); prev != "" && prev != c.id {
		c.srv.mgr.Tell(bg, SendMessage{ConnectionID: prev, Event: seatMoved{roomID: actual}})
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
func (c *conn) leaveRoom(ctx context.Context, reason string) {
	roomID := c.roomID
	c.dropRoom()
	ctx, cancel := c.callCtx(ctx)
	defer cancel()
	_, err := c.srv.deps.Room.LeaveRoom(ctx, &pb.LeaveRoomRequest{RoomId: roomID, ConnectionId: c.id, Reason: reason})
	if err != nil && !rpc.IsReason(err, pb.ErrorReason_NOT_IN_ROOM) {
		c.srv.log.Warn("leave room", "room", roomID, "err", err)
	}
}

func (c *conn) handleLeave(ctx context.Context, id string) error {
	if c.roomID == "" {
		return errNotInRoom
	}
	c.leaveRoom(ctx, "left")
	c.presence(ctx, true)
	c.ack(id)
	return nil
}

func (c *conn) handleChat(ctx context.Context, id string, m *pb.ChatSend) error {
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
	ctx, cancel := c.callCtx(ctx)
	defer cancel()
	if _, err := c.srv.deps.Room.SendChat(ctx, &pb.SendChatRequest{RoomId: c.roomID, Text: text}); err != nil {
		return err
	}
	c.ack(id)
	return nil
}

func (c *conn) handleSetProfile(ctx context.Context, id string, m *pb.SetProfile) error {
	ctx, cancel := c.callCtx(ctx)
	defer cancel()
	u, err := c.srv.deps.User.UpdateProfile(ctx, &pb.UpdateProfileRequest{
		DisplayName: m.Name, Color: m.Color, StatusText: m.StatusText,
	})
	if err != nil {
		return err
	}
	// Room members hear of it from the seat holder when the user
	// service's profile event arrives (see memberUpdated).
	c.setUser(u)
	c.sendMsg(id, &pb.ServerMessage{Payload: &pb.ServerMessage_Profile{Profile: &pb.Profile{User: u}}})
	return nil
}

func (c *conn) handleRoomSettings(ctx context.Context, id string, m *pb.RoomSettingsChange) error {
	if c.roomID == "" {
		return errNotInRoom
	}
	ctx, cancel := c.callCtx(ctx)
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

func (c *conn) handleKick(ctx context.Context, id string, m *pb.Kick) error {
	if c.roomID == "" {
		return errNotInRoom
	}
	ctx, cancel := c.callCtx(ctx)
	defer cancel()
	if _, err := c.srv.deps.Room.Kick(ctx, &pb.KickRequest{RoomId: c.roomID, UserId: m.GetUserId(), BanSeconds: m.GetBanSeconds()}); err != nil {
		return err
	}
	c.ack(id)
	return nil
}

func (c *conn) handleTransferOwner(ctx context.Context, id string, m *pb.TransferOwner) error {
	if c.roomID == "" {
		return errNotInRoom
	}
	ctx, cancel := c.callCtx(ctx)
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

func (c *conn) handleListRooms(ctx context.Context, id string) error {
	ctx, cancel := c.callCtx(ctx)
	defer cancel()
	res, err := c.srv.deps.Room.ListRooms(ctx, &pb.ListRoomsRequest{})
	if err != nil {
		return err
	}
	c.sendMsg(id, &pb.ServerMessage{Payload: &pb.ServerMessage_RoomList{RoomList: &pb.RoomList{Rooms: res.GetRooms()}}})
	return nil
}

func (c *conn) handleFriend(ctx context.Context, id string, m *pb.FriendRequest) error {
	ctx, cancel := c.callCtx(ctx)
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

func (c *conn) handleChatModeration(ctx context.Context, id string, m *pb.ChatModeration) error {
	if c.roomID == "" {
		return errNotInRoom
	}
	ctx, cancel := c.callCtx(ctx)
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
