package edge

import (
	"context"
	"time"
	"unicode/utf8"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/rpc"
	"github.com/pianorhythm/server/services/connection/internal/pubsub"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// handler handles one client message on the connection's actor. It
// answers at once (nil work; an error becomes an error frame that echoes
// id) or returns the work of a call (calls.go).
type handler func(a *connActor, ctx context.Context, id string, m *pb.ClientMessage) (work, error)

// handlers is the one table of client messages, keyed by the name of
// their field in the ClientMessage payload oneof. Everything else is
// derived from it and the proto (routes.go): the span name ("ws." and the
// field's JSON name), and the route of each message. Inline routes are answered on the actor
// at once, even while a call is pending (notes must never wait for a chat
// or a join); the others are calls, answered in order. A test fails when a
// case of the oneof has no entry.
var handlers = map[protoreflect.Name]struct {
	inline bool
	handle handler
}{
	"notes":           {true, (*connActor).handleNotes},
	"ping":            {true, (*connActor).handlePing},
	"cursor":          {true, (*connActor).handleCursor},
	"join":            {false, (*connActor).handleJoin},
	"leave":           {false, (*connActor).handleLeave},
	"chat":            {false, (*connActor).handleChat},
	"set_profile":     {false, (*connActor).handleSetProfile},
	"room_settings":   {false, (*connActor).handleRoomSettings},
	"kick":            {false, (*connActor).handleKick},
	"transfer_owner":  {false, (*connActor).handleTransferOwner},
	"list_rooms":      {false, (*connActor).handleListRooms},
	"friend":          {false, (*connActor).handleFriend},
	"chat_moderation": {false, (*connActor).handleChatModeration},
	"watch_rooms":     {false, (*connActor).handleWatchRooms},
	"unban":           {false, (*connActor).handleUnban},
}

// Limits of the client protocol (DESIGN section 4).
const (
	maxChatRunes = 512
	lobbyID      = "lobby"
)

// The handlers of the table above. Each checks what it can on the
// actor and returns the work of its call, which gets from the session only
// what the handler copied for it; the work's apply runs on the session's
// owner again and sends the reply.

func invalid(msg string) error { return rpc.Refuse(pb.ErrorReason_INVALID_ARGUMENT, msg) }

var (
	errNotInRoom     = rpc.Refuse(pb.ErrorReason_NOT_IN_ROOM, "not in a room")
	errRedisDown     = rpc.Refuse(pb.ErrorReason_UNAVAILABLE, "room events are unavailable (Redis does not answer); try again")
	errJoinRateLimit = rpc.Refuse(pb.ErrorReason_RATE_LIMITED, "too many joins")
)

func (c *conn) ack(id string) {
	c.sendMsg(id, &pb.ServerMessage{Payload: &pb.ServerMessage_Ack{Ack: &pb.Ack{}}})
}

func (a *connActor) handlePing(_ context.Context, id string, m *pb.ClientMessage) (work, error) {
	a.c.sendMsg(id, &pb.ServerMessage{Payload: &pb.ServerMessage_Pong{Pong: &pb.Pong{
		ClientTime: m.GetPing().GetClientTime(), ServerTime: time.Now().UnixMilli()}}})
	return nil, nil
}

// allowJoin applies the join rate: JoinsPerSecond in any one-second window.
func (a *connActor) allowJoin(now time.Time) bool {
	s := a.s
	cut := 0
	for cut < len(s.joins) && now.Sub(s.joins[cut]) >= time.Second {
		cut++
	}
	s.joins = s.joins[cut:]
	if len(s.joins) >= a.c.srv.cfg.JoinsPerSecond {
		return false
	}
	s.joins = append(s.joins, now)
	return true
}

func (a *connActor) handleJoin(_ context.Context, id string, m *pb.ClientMessage) (work, error) {
	if !a.allowJoin(time.Now()) {
		return nil, errJoinRateLimit
	}
	return a.join(id, m.GetJoin())
}

// join asks the room service for a seat and moves this connection's local
// membership and subscription there. Both are taken before the call (the
// local membership as pending, holding frames until activated, by the
// actor now; the subscription by the work, before it calls), so no event
// published between the room service's commit and our reply is missed; a
// failed join gives them back. While Redis does not answer the join is
// refused at once: the room's events could not reach us.
func (a *connActor) join(id string, j *pb.Join) (work, error) {
	c, s := a.c, a.s
	srv := c.srv
	if !srv.redis.Up() {
		return nil, errRedisDown
	}
	target := j.GetRoom()
	if target == "" {
		target = lobbyID
	}
	old, ident := s.roomID, s.ident
	if target != old {
		srv.hub.JoinPending(target, c)
		s.pending = target
	}
	req := &pb.JoinRoomRequest{
		RoomId: target, Password: j.GetPassword(), Create: j.GetCreate(), Settings: j.GetSettings(),
		ConnectionId: c.id, InstanceId: srv.cfg.InstanceID, Profile: s.user,
	}
	channel := func(room string) string { return pubsub.RoomChannel(srv.cfg.KeyPrefix, room) }
	return func(ctx context.Context) (func(), error) {
		// The work's own reference to the room's channel: handed to the
		// session by apply, released here when the join fails.
		sctx, cancel := context.WithTimeout(ctx, srv.cfg.CallTimeout)
		err := srv.sub.Subscribe(sctx, channel(target))
		cancel()
		if err != nil {
			srv.sub.Unsubscribe(channel(target))
			return a.joinFailed, errRedisDown
		}
		cctx, cancel := c.callCtx(ctx, ident)
		defer cancel()
		res, err := srv.deps.Room.JoinRoom(cctx, req)
		if err != nil {
			srv.sub.Unsubscribe(channel(target))
			return a.joinFailed, err
		}
		actual := res.GetRoom().GetId()
		if actual != target {
			// A full lobby sent us to lobby-2: that room's events from
			// before this point are not held (a rare case; the member list
			// is fresh).
			srv.sub.Subscribe(ctx, channel(actual))
			srv.sub.Unsubscribe(channel(target))
		}
		if old != "" && actual != old {
			c.leaveRoom(ctx, ident, old, "moved")
		}
		if prev := res.GetPreviousConnectionId(); prev != "" && prev != c.id {
			srv.mgr.Tell(context.Background(), SendMessage{ConnectionID: prev, Event: seatMoved{roomID: actual}})
		}
		return func() { a.joined(id, res) }, nil
	}, nil
}

// joined applies a join the room service granted: the session takes the
// work's channel reference and the fan-out membership (the pending one,
// activated after roomJoined is queued so what the room held for us
// follows it). The session may have changed meanwhile (kicked from the old
// room, say): it decides, not the snapshot the work had.
func (a *connActor) joined(id string, res *pb.JoinRoomResponse) {
	c, s := a.c, a.s
	srv := c.srv
	actual := res.GetRoom().GetId()
	pending := s.pending == actual
	if s.pending != "" && !pending {
		srv.hub.Leave(s.pending, c.id) // redirected elsewhere
	}
	s.pending = ""
	rejoined := s.roomID == actual
	if rejoined {
		// Rejoining the current room: it keeps its membership and
		// reference; the work's is one too many.
		srv.sub.Unsubscribe(pubsub.RoomChannel(srv.cfg.KeyPrefix, actual))
		s.room = res.GetRoom()
	} else {
		a.dropRoom() // the room service was told by the work
		a.setRoom(actual, res.GetRoom())
	}
	c.sendMsg(id, &pb.ServerMessage{Payload: &pb.ServerMessage_RoomJoined{RoomJoined: &pb.RoomJoined{
		Room: res.GetRoom(), Members: res.GetMembers(), ChatHistory: res.GetChatHistory(),
		WelcomeMessage: res.GetWelcomeMessage(),
	}}})
	switch {
	case pending:
		srv.hub.Activate(actual, c.id)
	case !rejoined:
		srv.hub.Join(actual, c)
	}
	a.updateQuota(true)
	// Friends hear of the room change after the join is answered, as the
	// connection's own call: the join itself is the edge's one call and
	// the room service's one (state already moved the presence). A guest
	// has no friends to tell, so the join was all there was to do.
	if !s.ident.Guest {
		a.own(a.presenceNow)
	}
}

// joinFailed gives back the pending membership of a refused join.
func (a *connActor) joinFailed() {
	if a.s.pending != "" {
		a.c.srv.hub.Leave(a.s.pending, a.c.id)
		a.s.pending = ""
	}
}

func (a *connActor) handleLeave(_ context.Context, id string, _ *pb.ClientMessage) (work, error) {
	c, s := a.c, a.s
	if s.roomID == "" {
		return nil, errNotInRoom
	}
	roomID, ident := s.roomID, s.ident
	a.dropRoom()
	return func(ctx context.Context) (func(), error) {
		c.leaveRoom(ctx, ident, roomID, "left")
		if !ident.Guest { // the leave cleared the room; only a user has friends to tell
			c.presence(ctx, ident, "", true)
		}
		return func() { c.ack(id) }, nil
	}, nil
}

func (a *connActor) handleChat(_ context.Context, id string, m *pb.ClientMessage) (work, error) {
	c, s := a.c, a.s
	text := m.GetChat().GetText()
	switch {
	case s.roomID == "":
		return nil, errNotInRoom
	case !utf8.ValidString(text):
		return nil, invalid("chat text is not valid UTF-8")
	case text == "":
		return nil, invalid("chat text is empty")
	case utf8.RuneCountInString(text) > maxChatRunes:
		return nil, invalid("chat text is longer than 512 characters")
	}
	req, ident := &pb.SendChatRequest{RoomId: s.roomID, Text: text}, s.ident
	return func(ctx context.Context) (func(), error) {
		ctx, cancel := c.callCtx(ctx, ident)
		defer cancel()
		if _, err := c.srv.deps.Room.SendChat(ctx, req); err != nil {
			return nil, err
		}
		return func() { c.ack(id) }, nil
	}, nil
}

func (a *connActor) handleSetProfile(_ context.Context, id string, m *pb.ClientMessage) (work, error) {
	c, ident := a.c, a.s.ident
	p := m.GetSetProfile()
	req := &pb.UpdateProfileRequest{DisplayName: p.Name, Color: p.Color, StatusText: p.StatusText}
	return func(ctx context.Context) (func(), error) {
		ctx, cancel := c.callCtx(ctx, ident)
		defer cancel()
		u, err := c.srv.deps.User.UpdateProfile(ctx, req)
		if err != nil {
			return nil, err
		}
		return func() {
			// Room members hear of it from the state service, which
			// publishes memberUpdated when the user service saves it.
			a.setUser(u)
			c.sendMsg(id, &pb.ServerMessage{Payload: &pb.ServerMessage_Profile{Profile: &pb.Profile{User: u}}})
		}, nil
	}, nil
}

func (a *connActor) handleRoomSettings(_ context.Context, id string, m *pb.ClientMessage) (work, error) {
	c, s := a.c, a.s
	if s.roomID == "" {
		return nil, errNotInRoom
	}
	req, ident := &pb.UpdateRoomSettingsRequest{RoomId: s.roomID, Settings: m.GetRoomSettings().GetSettings()}, s.ident
	return func(ctx context.Context) (func(), error) {
		ctx, cancel := c.callCtx(ctx, ident)
		defer cancel()
		room, err := c.srv.deps.Room.UpdateRoomSettings(ctx, req)
		if err != nil {
			return nil, err
		}
		return func() {
			a.roomChanged(room, false)
			c.sendMsg(id, &pb.ServerMessage{Payload: &pb.ServerMessage_RoomUpdated{RoomUpdated: &pb.RoomUpdated{Room: room}}})
		}, nil
	}, nil
}

// roomChanged applies a new version of a room, if it is still ours.
func (a *connActor) roomChanged(room *pb.Room, forceQuota bool) {
	if room.GetId() == a.s.roomID {
		a.s.room = room
		a.updateQuota(forceQuota)
	}
}

func (a *connActor) handleKick(_ context.Context, id string, m *pb.ClientMessage) (work, error) {
	c, s := a.c, a.s
	if s.roomID == "" {
		return nil, errNotInRoom
	}
	k := m.GetKick()
	req, ident := &pb.KickRequest{RoomId: s.roomID, UserId: k.GetUserId(), BanSeconds: k.GetBanSeconds()}, s.ident
	return func(ctx context.Context) (func(), error) {
		ctx, cancel := c.callCtx(ctx, ident)
		defer cancel()
		if _, err := c.srv.deps.Room.Kick(ctx, req); err != nil {
			return nil, err
		}
		return func() { c.ack(id) }, nil
	}, nil
}

func (a *connActor) handleTransferOwner(_ context.Context, id string, m *pb.ClientMessage) (work, error) {
	c, s := a.c, a.s
	if s.roomID == "" {
		return nil, errNotInRoom
	}
	roomID, ident, to := s.roomID, s.ident, m.GetTransferOwner().GetUserId()
	return func(ctx context.Context) (func(), error) {
		ctx, cancel := c.callCtx(ctx, ident)
		defer cancel()
		var (
			room *pb.Room
			err  error
		)
		if to == "" {
			room, err = c.srv.deps.Room.ClaimOwnership(ctx, &pb.ClaimOwnershipRequest{RoomId: roomID})
		} else {
			room, err = c.srv.deps.Room.TransferOwnership(ctx, &pb.TransferOwnershipRequest{RoomId: roomID, UserId: to})
		}
		if err != nil {
			return nil, err
		}
		return func() {
			a.roomChanged(room, true)
			c.ack(id)
		}, nil
	}, nil
}

func (a *connActor) handleListRooms(_ context.Context, id string, _ *pb.ClientMessage) (work, error) {
	c, ident := a.c, a.s.ident
	return func(ctx context.Context) (func(), error) {
		ctx, cancel := c.callCtx(ctx, ident)
		defer cancel()
		res, err := c.srv.deps.Room.ListRooms(ctx, &pb.ListRoomsRequest{})
		if err != nil {
			return nil, err
		}
		return func() {
			c.sendMsg(id, &pb.ServerMessage{Payload: &pb.ServerMessage_RoomList{RoomList: &pb.RoomList{Rooms: res.GetRooms()}}})
		}, nil
	}, nil
}

func (a *connActor) handleFriend(_ context.Context, id string, m *pb.ClientMessage) (work, error) {
	c, ident := a.c, a.s.ident
	f := m.GetFriend()
	return func(ctx context.Context) (func(), error) {
		ctx, cancel := c.callCtx(ctx, ident)
		defer cancel()
		var friends []*pb.Friend
		if f.GetUserId() == "" && f.GetAction() == pb.FriendAction_FRIEND_ACTION_UNSPECIFIED {
			res, err := c.srv.deps.User.ListFriends(ctx, &pb.ListFriendsRequest{})
			if err != nil {
				return nil, err
			}
			friends = res.GetFriends()
		} else {
			fr, err := c.srv.deps.User.UpdateFriend(ctx, &pb.UpdateFriendRequest{UserId: f.GetUserId(), Action: f.GetAction()})
			if err != nil {
				return nil, err
			}
			friends = []*pb.Friend{fr}
		}
		return func() {
			c.sendMsg(id, &pb.ServerMessage{Payload: &pb.ServerMessage_FriendUpdate{FriendUpdate: &pb.FriendUpdate{Friends: friends}}})
		}, nil
	}, nil
}

func (a *connActor) handleChatModeration(_ context.Context, id string, m *pb.ClientMessage) (work, error) {
	c, s := a.c, a.s
	if s.roomID == "" {
		return nil, errNotInRoom
	}
	cm := m.GetChatModeration()
	if !cm.GetClear() && cm.GetMessageId() == "" {
		return nil, invalid("chatModeration needs messageId or clear")
	}
	roomID, ident := s.roomID, s.ident
	return func(ctx context.Context) (func(), error) {
		ctx, cancel := c.callCtx(ctx, ident)
		defer cancel()
		var err error
		if cm.GetClear() {
			_, err = c.srv.deps.Room.ClearChat(ctx, &pb.ClearChatRequest{RoomId: roomID})
		} else {
			_, err = c.srv.deps.Room.DeleteChatMessage(ctx, &pb.DeleteChatMessageRequest{RoomId: roomID, MessageId: cm.GetMessageId()})
		}
		if err != nil {
			return nil, err
		}
		return func() { c.ack(id) }, nil
	}, nil
}

// handleWatchRooms starts (answered with the whole roomList, then
// roomsChanged while watching; see package roomwatch) or ends (ack) the
// connection's watch of the room list.
func (a *connActor) handleWatchRooms(_ context.Context, id string, m *pb.ClientMessage) (work, error) {
	c := a.c
	if !m.GetWatchRooms().GetWatch() {
		c.srv.rooms.Unwatch(c.id)
		c.ack(id)
		return nil, nil
	}
	return func(ctx context.Context) (func(), error) {
		ctx, cancel := context.WithTimeout(ctx, c.srv.cfg.CallTimeout)
		defer cancel()
		if err := c.srv.rooms.Watch(ctx, c, id); err != nil {
			return nil, rpc.Refuse(pb.ErrorReason_UNAVAILABLE, "the room list is unavailable; try again")
		}
		return nil, nil // the watcher sent the list
	}, nil
}

func (a *connActor) handleUnban(_ context.Context, id string, m *pb.ClientMessage) (work, error) {
	c, s := a.c, a.s
	if s.roomID == "" {
		return nil, errNotInRoom
	}
	req, ident := &pb.UnbanFromRoomRequest{RoomId: s.roomID, UserId: m.GetUnban().GetUserId()}, s.ident
	if req.UserId == "" {
		return nil, invalid("unban needs userId")
	}
	return func(ctx context.Context) (func(), error) {
		ctx, cancel := c.callCtx(ctx, ident)
		defer cancel()
		if _, err := c.srv.deps.Room.Unban(ctx, req); err != nil {
			return nil, err
		}
		return func() { c.ack(id) }, nil
	}, nil
}
