package room

import (
	"context"
	"fmt"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/services/room/internal/clock"
)

// Messages a Room actor handles (JoinRoom, LeaveRoom and UpdateRoomSettings
// are the RoomManager messages of the original design; CreateRoom is
// Manager.Create). Each command carries the caller's identity; permission
// checks that need the room happen inside the actor, against the room as
// stored.
type (
	touchCmd struct{}
	joinRoom struct {
		caller auth.Identity
		req    *pb.JoinRoomRequest
		// verifiedHash is the password hash the handler already checked the
		// password against, outside the actor (argon2id is slow on purpose).
		verifiedHash string
	}
	leaveRoom struct {
		userID, connectionID, reason string
	}
	updateRoomSettings struct {
		caller   auth.Identity
		settings *pb.RoomSettings
	}
	deleteCmd struct{ caller auth.Identity }
	kickCmd   struct {
		caller auth.Identity
		req    *pb.KickRequest
	}
	transferCmd struct {
		caller auth.Identity
		userID string
	}
	claimCmd struct{ caller auth.Identity }
	chatCmd  struct {
		caller auth.Identity
		text   string
	}
	chatDeleteCmd struct {
		caller    auth.Identity
		messageID string
	}
	chatClearCmd struct{ caller auth.Identity }

	// Timer notices, told by the actor's own clock callbacks. They carry
	// what they were scheduled for, and the handler re-checks state: a
	// stale or duplicated notice (after a restart) does nothing.
	seatExpired  struct{ leftAt time.Time }
	emptyExpired struct{}
)

// roomActor serializes everything that happens to one room.
type roomActor struct {
	id  string
	c   *core
	mgr *Manager

	room      *pb.Room
	roomAt    time.Time
	members   map[string]*pb.Member
	membersAt time.Time
	gone      bool

	seatTimer  clock.Timer
	emptyTimer clock.Timer
}

var (
	_ actor.Actor   = (*roomActor)(nil)
	_ actor.Starter = (*roomActor)(nil)
	_ actor.Stopper = (*roomActor)(nil)
)

// Started loads the room and its members from state, at the first start
// and after every restart, and re-arms the timers the stored room implies.
func (a *roomActor) Started(c *actor.Context) error {
	a.mgr.runHook(a.id, nil)
	ctx := c.Context()
	room, err := a.loadRoom(ctx)
	if isReason(err, ReasonNotFound) {
		a.gone = true
		return nil
	}
	if err != nil {
		return fmt.Errorf("start room %s: %w", a.id, err)
	}
	if _, err := a.loadMembers(ctx); err != nil {
		return fmt.Errorf("start room %s: %w", a.id, err)
	}
	if room.GetLobby() && lobbyIndex(a.id) == 1 {
		return nil
	}
	if len(a.members) == 0 {
		a.armEmpty(c.Self())
	}
	if !room.GetLobby() && room.GetOwnerId() != "" && room.GetOwnerLeftAt() != nil && a.members[room.GetOwnerId()] == nil {
		left := room.GetOwnerLeftAt().AsTime()
		a.armSeat(c.Self(), left, max(0, left.Add(a.c.opt.OwnerSeatHold).Sub(a.c.now())))
	}
	return nil
}

// Stopped cancels the timers.
func (a *roomActor) Stopped(*actor.Context) {
	stopTimer(&a.seatTimer)
	stopTimer(&a.emptyTimer)
}

// Receive runs one command and answers it: a value or an error.
func (a *roomActor) Receive(c *actor.Context) {
	msg := c.Message()
	if r, ok := msg.(toRoom); ok {
		msg = r.cmd
	}
	a.mgr.runHook(a.id, msg)
	if a.gone {
		c.Respond(refuse(ReasonNotFound, "room "+a.id+" not found"))
		c.Stop() // the RoomManager watches it and forgets it
		return
	}
	ctx := c.Context()
	var (
		v   any
		err error
	)
	switch m := msg.(type) {
	case touchCmd:
		v, err = a.touch(ctx)
	case joinRoom:
		v, err = a.join(ctx, c, m)
	case leaveRoom:
		v, err = a.leave(ctx, c, m)
	case updateRoomSettings:
		v, err = a.updateSettings(ctx, m)
	case deleteCmd:
		err = a.deleteByUser(ctx, c, m)
	case kickCmd:
		err = a.kick(ctx, c, m)
	case transferCmd:
		v, err = a.transfer(ctx, m)
	case claimCmd:
		v, err = a.claim(ctx, m)
	case chatCmd:
		v, err = a.chat(ctx, m)
	case chatDeleteCmd:
		err = a.deleteChat(ctx, m)
	case chatClearCmd:
		err = a.clearChat(ctx, m)
	case seatExpired:
		err = a.seatExpired(ctx, m)
	case emptyExpired:
		err = a.emptyExpired(ctx, c)
	default:
		err = fmt.Errorf("room %s: unknown message %T", a.id, m)
	}
	if err != nil {
		c.Respond(err)
		return
	}
	c.Respond(v)
}

// loadRoom reads the room from state into the cache.
func (a *roomActor) loadRoom(ctx context.Context) (*pb.Room, error) {
	cctx, cancel := a.c.call(ctx)
	defer cancel()
	r, err := a.c.state.GetRoom(cctx, &pb.GetRoomRequest{RoomId: a.id})
	if err != nil {
		return nil, fromState("get room", err)
	}
	a.room, a.roomAt = r, a.c.now()
	return r, nil
}

// loadMembers reads the members from state into the cache.
func (a *roomActor) loadMembers(ctx context.Context) ([]*pb.Member, error) {
	cctx, cancel := a.c.call(ctx)
	defer cancel()
	resp, err := a.c.state.RoomMembers(cctx, &pb.RoomMembersRequest{RoomId: a.id})
	if err != nil {
		return nil, fromState("room members", err)
	}
	a.members = make(map[string]*pb.Member, len(resp.GetMembers()))
	for _, m := range resp.GetMembers() {
		a.members[m.GetUser().GetId()] = m
	}
	a.membersAt = a.c.now()
	return resp.GetMembers(), nil
}

// member returns userID's seat, refreshing the cache when it is older than
// CacheTTL or does not know the user (who may have joined on a replica).
func (a *roomActor) member(ctx context.Context, userID string) (*pb.Member, error) {
	if m := a.members[userID]; m != nil && a.c.now().Sub(a.membersAt) < a.c.opt.CacheTTL {
		return m, nil
	}
	if _, err := a.loadMembers(ctx); err != nil {
		return nil, err
	}
	return a.members[userID], nil
}

func (a *roomActor) saveRoom(ctx context.Context, r *pb.Room) error {
	cctx, cancel := a.c.call(ctx)
	defer cancel()
	saved, err := a.c.state.SaveRoom(cctx, &pb.SaveRoomRequest{Room: r})
	if err != nil {
		return fromState("save room", err)
	}
	a.room, a.roomAt = saved, a.c.now()
	return nil
}

func (a *roomActor) touch(ctx context.Context) (*pb.Room, error) {
	r, err := a.loadRoom(ctx)
	if err != nil {
		return nil, err
	}
	return public(r), nil
}

// isOwner reports whether id may act as the room's owner: the owner itself
// or staff. Lobbies have no owner: only staff.
func (a *roomActor) isOwner(r *pb.Room, id auth.Identity) bool {
	if id.Staff() {
		return true
	}
	return !r.GetLobby() && r.GetOwnerId() != "" && r.GetOwnerId() == id.UserID
}

func (a *roomActor) armEmpty(self *actor.Ref) {
	stopTimer(&a.emptyTimer)
	a.emptyTimer = a.c.opt.Clock.AfterFunc(a.c.opt.EmptyRoomGrace, func() { tellSelf(self, emptyExpired{}) })
}

func (a *roomActor) armSeat(self *actor.Ref, leftAt time.Time, d time.Duration) {
	stopTimer(&a.seatTimer)
	a.seatTimer = a.c.opt.Clock.AfterFunc(d, func() { tellSelf(self, seatExpired{leftAt: leftAt}) })
}

func tellSelf(self *actor.Ref, msg any) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = self.Tell(ctx, msg) // a stopped room needs no reminder
}

func stopTimer(t *clock.Timer) {
	if *t != nil {
		(*t).Stop()
		*t = nil
	}
}
