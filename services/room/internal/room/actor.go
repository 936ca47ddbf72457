package room

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/roomview"
	"github.com/pianorhythm/server/services/room/internal/clock"
)

// command is a message a Room actor handles: each command is a type with
// its own run, in the file of its operation (JoinRoom, LeaveRoom and
// UpdateRoomSettings are the RoomManager messages of the original design;
// CreateRoom is Manager.Create). Commands carry the caller's identity; every
// decision is taken on the room as the actor holds it. Adding an operation
// is a command type and its gRPC handler in one file; no switch to edit.
type command interface {
	run(ctx context.Context, a *roomActor, c *actor.Context) (any, error)
}

// Commands that belong to no operation file.
type (
	touchCmd     struct{}
	passwordHash struct{} // answered with a passwordLock
)

func (touchCmd) run(_ context.Context, a *roomActor, _ *actor.Context) (any, error) {
	return roomview.Public(a.room), nil
}

func (passwordHash) run(_ context.Context, a *roomActor, _ *actor.Context) (any, error) {
	return passwordLock{hash: a.room.GetPasswordHash(), owner: a.room.GetOwnerId()}, nil
}

// roomActor is the Room actor: it owns its room as it knows it (settings,
// owner and the seat hold, password hash, version) and the seats it has
// seen, decides every rule on them, and writes each change through to the
// state service in one call that also checks the room's version there. A
// replica that changed the room meanwhile makes that call answer stale
// with the current room: the actor adopts it and decides again. So the
// actor's memory is a cache that is never trusted blindly, and several
// replicas of the room service stay correct on one store.
type roomActor struct {
	id  string
	c   *core
	mgr *Manager

	room    *pb.Room              // with Version and MemberCount
	members map[string]*pb.Member // seats seen (joins here, or loaded); may miss joins on replicas
	gone    bool

	seatTimer  clock.Timer
	emptyTimer clock.Timer
}

var (
	_ actor.Actor   = (*roomActor)(nil)
	_ actor.Starter = (*roomActor)(nil)
	_ actor.Stopper = (*roomActor)(nil)
)

// maxDecisions bounds how often one command is decided again because the
// room changed under it.
const maxDecisions = 3

// Started loads the room from state, at the first start and after every
// restart, and re-arms the timers the stored room implies.
func (a *roomActor) Started(c *actor.Context) error {
	a.mgr.runHook(a.id, nil)
	ctx, cancel := a.c.call(c.Context())
	defer cancel()
	r, err := a.c.state.GetRoom(ctx, &pb.GetRoomRequest{RoomId: a.id})
	if isReason(err, ReasonNotFound) {
		a.gone = true
		return nil
	}
	if err != nil {
		return fmt.Errorf("start room %s: %w", a.id, fromState("get room", err))
	}
	a.room, a.members = r, map[string]*pb.Member{}
	if r.GetLobby() && lobbyIndex(a.id) == 1 {
		return nil
	}
	if r.GetMemberCount() == 0 && !r.GetPersistent() {
		a.armEmpty(c.Self())
	}
	if !r.GetLobby() && r.GetOwnerId() != "" && r.GetOwnerLeftAt() != nil {
		left := r.GetOwnerLeftAt().AsTime()
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
	cmd, ok := msg.(command)
	if !ok {
		c.Respond(fmt.Errorf("room %s: unknown message %T", a.id, msg))
		return
	}
	v, err := cmd.run(c.Context(), a, c)
	if err != nil {
		c.Respond(err)
		return
	}
	c.Respond(v)
}

// adopt takes the room as state has it now (after a write, or the current
// room of a stale answer), keeping the member count when the answer has
// none.
func (a *roomActor) adopt(r *pb.Room) {
	if r == nil {
		return
	}
	if r.GetMemberCount() == 0 && a.room != nil && r.GetVersion() == a.room.GetVersion() {
		r = proto.CloneOf(r)
		r.MemberCount = a.room.GetMemberCount()
	}
	a.room = r
}

// write stores upd, a change decided on a.room's version. It reports
// stale when another writer changed the room first (a.room is then the
// current room, and the caller decides again).
func (a *roomActor) write(ctx context.Context, upd *pb.Room) (stale bool, err error) {
	cctx, cancel := a.c.call(ctx)
	defer cancel()
	res, err := a.c.state.SaveRoom(cctx, &pb.SaveRoomRequest{Room: upd, Version: a.room.GetVersion()})
	if err != nil {
		return false, fromState("save room", err)
	}
	count := a.room.GetMemberCount()
	a.room = res.GetRoom()
	if !res.GetStale() {
		a.room.MemberCount = count
	}
	return res.GetStale(), nil
}

// decide runs step until it is not stale, at most maxDecisions times.
func decide(step func() (stale bool, err error)) error {
	for range maxDecisions {
		stale, err := step()
		if err != nil || !stale {
			return err
		}
	}
	return refuse(ReasonUnavailable, "the room is changing too fast, try again")
}

// member returns userID's seat: from what the actor has seen, else from
// state (the user may have joined on another replica); nil when they hold
// none.
func (a *roomActor) member(ctx context.Context, userID string) (*pb.Member, error) {
	if m := a.members[userID]; m != nil {
		return m, nil
	}
	if err := a.loadMembers(ctx); err != nil {
		return nil, err
	}
	return a.members[userID], nil
}

func (a *roomActor) loadMembers(ctx context.Context) error {
	cctx, cancel := a.c.call(ctx)
	defer cancel()
	resp, err := a.c.state.RoomMembers(cctx, &pb.RoomMembersRequest{RoomId: a.id})
	if err != nil {
		return fromState("room members", err)
	}
	a.seat(resp.GetMembers())
	return nil
}

// seat replaces the seats the actor knows with members (a full list).
func (a *roomActor) seat(members []*pb.Member) {
	a.members = make(map[string]*pb.Member, len(members))
	for _, m := range members {
		a.members[m.GetUser().GetId()] = m
	}
	if a.room != nil {
		a.room.MemberCount = int32(len(members))
	}
}

// isOwner reports whether id may act as the room's owner: the owner itself
// or staff (the permission table's MODERATE). Lobbies have no owner.
func (a *roomActor) isOwner(r *pb.Room, id auth.Identity) bool {
	if ok, _ := id.May(pb.Action_ACTION_MODERATE); ok {
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
