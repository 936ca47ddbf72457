package edge

import (
	"context"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/rpc"
	"github.com/pianorhythm/server/services/connection/internal/pubsub"
	"github.com/pianorhythm/server/services/connection/internal/quota"
	"golang.org/x/time/rate"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// session is one connection's state. While the connection's actor runs it
// is the actor's alone; once the actor has stopped (its Ref's Done is
// closed) it belongs to the goroutine of conn.run, which finishes the call
// in flight and leaves the room with it. No other goroutine touches it: the
// worker gets a call that carries the values it needs and returns what the
// owner applies, and the manager and admin calls ask the actor.
//
// It lives outside the actor instance because a socket cannot be reloaded
// from storage: an instance rebuilt after a panic only closes the
// connection, and the teardown still knows the room.
type session struct {
	// ident is who the connection acts as; UserID never changes,
	// DisplayName follows the profile.
	ident      auth.Identity
	user       *pb.User
	guestToken string

	// roomID is the room the connection is in: it holds one active
	// membership of the room's local fan-out and one reference to the
	// room's Redis channel. Empty: in no room.
	roomID   string
	room     *pb.Room
	joinedAt time.Time
	// pending is the room of the pending fan-out membership taken for a
	// join in flight; empty when none.
	pending string
	// online: the presence was reported and the user's channel is held.
	online bool

	quota   *quota.Quota
	joins   []time.Time
	cursors *rate.Limiter
	// started: the actor has started once; a second start is a restart.
	started bool
	calls   callQueue
}

// setUser applies a new profile.
func (a *connActor) setUser(u *pb.User) {
	a.s.user = u
	a.s.ident.DisplayName = u.GetDisplayName()
}

// setRoom makes roomID the current room; the caller has given the session
// the fan-out membership and the channel reference that go with it.
func (a *connActor) setRoom(roomID string, room *pb.Room) {
	a.s.roomID, a.s.room, a.s.joinedAt = roomID, room, time.Now()
	a.c.notes.SetRoom(roomID)
}

// dropRoom forgets the current room locally (the services already know,
// or are told by the caller): the fan-out membership and the channel
// reference go with it. It never waits.
func (a *connActor) dropRoom() {
	s, srv := a.s, a.c.srv
	if s.roomID == "" {
		return
	}
	srv.hub.Leave(s.roomID, a.c.id)
	srv.sub.Unsubscribe(pubsub.RoomChannel(srv.cfg.KeyPrefix, s.roomID))
	srv.pub.forget(pubsub.RoomChannel(srv.cfg.KeyPrefix, s.roomID))
	s.roomID, s.room = "", nil
	a.c.notes.SetRoom("")
}

// info describes the connection for the admin listing.
func (a *connActor) info() *pb.Connection {
	c := a.c
	return &pb.Connection{
		ConnectionId: c.id, UserId: c.userID, DisplayName: a.s.ident.DisplayName,
		RoomId: a.s.roomID, InstanceId: c.srv.cfg.InstanceID, Subprotocol: c.format.String(),
		ConnectedAt: timestamppb.New(c.connected), RemoteAddr: c.remote,
	}
}

// seat is what the connection holds, for RestoreInstance.
func (a *connActor) seat() *pb.InstanceSeat {
	c, s := a.c, a.s
	m := &pb.Member{User: s.user, InstanceId: c.srv.cfg.InstanceID, ConnectionId: c.id}
	if s.roomID != "" {
		m.JoinedAt = timestamppb.New(s.joinedAt)
	}
	return &pb.InstanceSeat{Member: m, RoomId: s.roomID}
}

// offline is the disconnect cleanup, by run once the actor and the worker
// have stopped: leave the room, go offline (friends are told by the user
// service), drop the user's channel.
func (a *connActor) offline() {
	c, s := a.c, a.s
	if s.roomID == "" && !s.online {
		return
	}
	defer c.srv.depart()()
	ctx := context.Background()
	if s.roomID != "" {
		roomID := s.roomID
		a.dropRoom()
		c.leaveRoom(ctx, s.ident, roomID, "disconnected")
	}
	if s.online {
		c.presence(ctx, s.ident, "", false)
		c.srv.sub.Unsubscribe(pubsub.UserChannel(c.srv.cfg.KeyPrefix, c.userID))
		s.online = false
	}
}

// leaveRoom tells the room service this connection left roomID.
func (c *conn) leaveRoom(ctx context.Context, id auth.Identity, roomID, reason string) {
	ctx, cancel := c.callCtx(ctx, id)
	defer cancel()
	_, err := c.srv.deps.Room.LeaveRoom(ctx, &pb.LeaveRoomRequest{RoomId: roomID, ConnectionId: c.id, Reason: reason})
	if err != nil && !rpc.IsReason(err, pb.ErrorReason_NOT_IN_ROOM) {
		c.srv.log.Warn("leave room", "room", roomID, "err", err)
	}
}
