package room

import (
	"context"
	"google.golang.org/protobuf/types/known/emptypb"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/roomview"
)

// chatHistoryOnJoin is how many past messages a joiner receives.
const chatHistoryOnJoin = 100

// Membership commands.
type (
	joinRoom struct {
		caller auth.Identity
		req    *pb.JoinRoomRequest
		// verifiedHash is the password hash the manager already checked the
		// password against, outside the actor (argon2id is slow on purpose).
		verifiedHash string
	}
	leaveRoom struct {
		userID, connectionID, reason string
	}
	deleteCmd struct{ caller auth.Identity }
	// emptyExpired is told by the actor's own grace timer; it re-checks the
	// room, so a stale or duplicated notice (after a restart) does nothing.
	emptyExpired struct{}
)

func (m joinRoom) run(ctx context.Context, a *roomActor, _ *actor.Context) (any, error) {
	return a.join(ctx, m)
}

func (m leaveRoom) run(ctx context.Context, a *roomActor, c *actor.Context) (any, error) {
	return a.leave(ctx, c, m)
}

func (m deleteCmd) run(ctx context.Context, a *roomActor, c *actor.Context) (any, error) {
	return nil, a.deleteByUser(ctx, c, m)
}

func (emptyExpired) run(ctx context.Context, a *roomActor, c *actor.Context) (any, error) {
	return nil, a.emptyExpired(ctx, c)
}

// join decides the rules that are the room service's (password, pro-only,
// guests) on the room as the actor holds it, and takes the seat in one
// state call that also checks capacity, bans and maintenance, writes the
// end of a held owner seat, publishes UserJoined and answers members and
// chat. A room changed on another replica meanwhile is decided again.
func (a *roomActor) join(ctx context.Context, m joinRoom) (*pb.JoinRoomResponse, error) {
	id := m.caller
	member := &pb.Member{
		User:         a.profile(id, m.req.GetProfile()),
		JoinedAt:     timestamppb.New(a.c.now()),
		InstanceId:   m.req.GetInstanceId(),
		ConnectionId: m.req.GetConnectionId(),
	}
	bypass, _ := id.May(pb.Action_ACTION_BYPASS_MAINTENANCE)
	var res *pb.AddUserToRoomResponse
	var back bool
	err := decide(func() (bool, error) {
		r := a.room
		owner := !r.GetLobby() && r.GetOwnerId() == id.UserID
		if err := a.admit(r, id, owner, m); err != nil {
			return false, err
		}
		var upd *pb.Room
		if back = owner && r.GetOwnerLeftAt() != nil; back {
			// The owner came back while the seat was held: it stays theirs.
			upd = proto.CloneOf(r)
			upd.OwnerLeftAt = nil
		}
		cctx, cancel := a.c.call(ctx)
		defer cancel()
		var err error
		res, err = a.c.state.AddUserToRoom(cctx, &pb.AddUserToRoomRequest{
			RoomId: a.id, Member: member, Staff: bypass, Version: r.GetVersion(), RoomUpdate: upd, ChatHistory: chatHistoryOnJoin,
		})
		if err != nil {
			return false, fromState("add user to room", err)
		}
		a.adopt(res.GetRoom())
		return res.GetStale(), nil
	})
	if err != nil {
		return nil, err
	}
	a.seat(res.GetMembers())
	stopTimer(&a.emptyTimer)
	if back {
		stopTimer(&a.seatTimer)
	}
	if !res.GetAlreadyMember() {
		a.c.emit(ctx, pb.EventType_EVENT_TYPE_ROOM_JOINED, id.UserID, a.id, 0)
	}
	name := member.GetUser().GetDisplayName()
	if name == "" {
		name = id.UserID
	}
	return &pb.JoinRoomResponse{
		Room:                 roomview.Public(a.room),
		Members:              res.GetMembers(),
		ChatHistory:          res.GetChatHistory(),
		WelcomeMessage:       welcome(a.room.GetSettings().GetWelcomeMessage(), name),
		PreviousConnectionId: res.GetPreviousConnectionId(),
	}, nil
}

// admit checks the rules of room r for id. The owner and staff pass them.
func (a *roomActor) admit(r *pb.Room, id auth.Identity, owner bool, m joinRoom) error {
	if staff, _ := id.May(pb.Action_ACTION_MODERATE); staff || owner {
		return nil
	}
	if h := r.GetPasswordHash(); h != "" && h != m.verifiedHash {
		// The password changed since the manager checked it (or it was
		// not checked): check again here.
		if m.req.GetPassword() == "" || !checkPassword(h, m.req.GetPassword()) {
			return refuse(ReasonWrongPassword, "wrong password")
		}
	}
	if r.GetSettings().GetProOnly() {
		if ok, reason := id.May(pb.Action_ACTION_JOIN_PRO_ROOM); !ok {
			return refuse(reason, "this room is for pro members")
		}
	}
	if id.Guest && !r.GetSettings().GetAllowGuests() {
		return refuse(ReasonGuestsNotAllowed, "guests may not join this room")
	}
	return nil
}

// profile is the user as members see them: the verified identity's id,
// name and roles, with the color, badges and status of the profile the
// edge sent (it holds the user's profile; no lookup per join).
func (a *roomActor) profile(id auth.Identity, p *pb.User) *pb.User {
	u := &pb.User{Id: id.UserID, DisplayName: id.DisplayName, Guest: id.Guest, Roles: append([]pb.Role(nil), id.Roles...)}
	if p != nil && p.GetId() == id.UserID {
		u.Color, u.Badges, u.StatusText = p.GetColor(), append([]string(nil), p.GetBadges()...), p.GetStatusText()
	}
	return u
}

// leave removes a member (all its seats, or only connectionID's).
func (a *roomActor) leave(ctx context.Context, c *actor.Context, m leaveRoom) (*emptyReply, error) {
	reason := m.reason
	if reason == "" {
		reason = "left"
	}
	_, err := a.remove(ctx, c, m.userID, m.connectionID, reason)
	return &emptyReply{}, err
}

// emptyReply answers commands that return nothing.
type emptyReply struct{}

// remove frees userID's seat (state publishes UserLeft) and handles what
// follows: the owner's seat hold, and an empty room's removal.
func (a *roomActor) remove(ctx context.Context, c *actor.Context, userID, connectionID, reason string) (bool, error) {
	var joinedAt *timestamppb.Timestamp
	if m := a.members[userID]; m != nil {
		joinedAt = m.GetJoinedAt()
	}
	now := a.c.now()
	r := a.room
	owner := !r.GetLobby() && r.GetOwnerId() == userID
	var upd *pb.Room
	if owner {
		upd = proto.CloneOf(r)
		upd.OwnerLeftAt = timestamppb.New(now)
	}
	cctx, cancel := a.c.call(ctx)
	res, err := a.c.state.RemoveUserFromRoom(cctx, &pb.RemoveUserFromRoomRequest{
		RoomId: a.id, UserId: userID, ConnectionId: connectionID, Reason: reason, Version: r.GetVersion(), RoomUpdate: upd,
	})
	cancel()
	if isReason(err, ReasonNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fromState("remove user from room", err)
	}
	if res.GetRoom() != nil {
		a.adopt(res.GetRoom())
		a.room.MemberCount = res.GetMemberCount()
	}
	if !res.GetRemoved() {
		return false, nil
	}
	delete(a.members, userID)
	a.c.emit(ctx, pb.EventType_EVENT_TYPE_ROOM_LEFT, userID, a.id, secondsSince(joinedAt, now))
	if owner {
		if res.GetStale() {
			// Another replica changed the room first: hold the seat on the
			// room as it is now, if it is still this owner's.
			if err := a.holdSeat(ctx, userID, now); err != nil {
				return true, err
			}
		}
		if a.room.GetOwnerId() == userID {
			a.armSeat(c.Self(), now, a.c.opt.OwnerSeatHold)
		}
	}
	a.afterLeave(ctx, c, res.GetMemberCount())
	return true, nil
}

// holdSeat records that the owner left at now on the room as it is now
// (decided again if it changes meanwhile); nothing when the room has
// another owner by then.
func (a *roomActor) holdSeat(ctx context.Context, ownerID string, now time.Time) error {
	return decide(func() (bool, error) {
		r := a.room
		if r.GetOwnerId() != ownerID || r.GetOwnerLeftAt() != nil {
			return false, nil
		}
		upd := proto.CloneOf(r)
		upd.OwnerLeftAt = timestamppb.New(now)
		return a.write(ctx, upd)
	})
}

// afterLeave removes or arms the removal of a room left with count
// members.
func (a *roomActor) afterLeave(ctx context.Context, c *actor.Context, count int32) {
	if count > 0 {
		return
	}
	switch lobbyIndex(a.id) {
	case 1: // the lobby stays
	case 0:
		if !a.room.GetPersistent() {
			a.armEmpty(c.Self())
		}
	default: // overflow lobbies go as soon as they are empty
		if err := a.destroy(ctx, c); err != nil {
			a.c.log.WarnContext(ctx, "remove empty lobby", "room", a.id, "err", err)
		}
	}
}

// emptyExpired removes the room if it is still empty after the grace.
func (a *roomActor) emptyExpired(ctx context.Context, c *actor.Context) error {
	a.emptyTimer = nil
	if lobbyIndex(a.id) == 1 {
		return nil
	}
	cctx, cancel := a.c.call(ctx)
	r, err := a.c.state.GetRoom(cctx, &pb.GetRoomRequest{RoomId: a.id})
	cancel()
	if isReason(err, ReasonNotFound) {
		a.gone = true
		c.Stop()
		return nil
	}
	if err != nil {
		return fromState("get room", err)
	}
	a.adopt(r)
	if r.GetMemberCount() > 0 || r.GetPersistent() {
		return nil
	}
	return a.destroy(ctx, c)
}

// deleteByUser deletes the room on its owner's or staff's request.
func (a *roomActor) deleteByUser(ctx context.Context, c *actor.Context, m deleteCmd) error {
	if a.room.GetLobby() || lobbyIndex(a.id) > 0 {
		return refuse(ReasonPermission, "lobbies cannot be deleted")
	}
	if !a.isOwner(a.room, m.caller) {
		return refuse(ReasonPermission, "only the owner may delete the room")
	}
	return a.destroy(ctx, c)
}

// destroy deletes the room from state (which tells its members) and stops
// the actor.
func (a *roomActor) destroy(ctx context.Context, c *actor.Context) error {
	cctx, cancel := a.c.call(ctx)
	_, err := a.c.state.DeleteRoom(cctx, &pb.DeleteRoomRequest{RoomId: a.id})
	cancel()
	if err != nil && !isReason(err, ReasonNotFound) {
		return fromState("delete room", err)
	}
	a.gone = true
	stopTimer(&a.seatTimer)
	stopTimer(&a.emptyTimer)
	c.Stop() // the RoomManager watches it and forgets it
	return nil
}

// DeleteRoom deletes a room (owner or staff; never a lobby).
func (s *Server) DeleteRoom(ctx context.Context, req *pb.DeleteRoomRequest) (*emptypb.Empty, error) {
	id, rid, err := s.callerIn(ctx, req.GetRoomId())
	if err != nil {
		return nil, err
	}
	if lobbyIndex(rid) > 0 {
		return nil, refuse(ReasonPermission, "lobbies cannot be deleted")
	}
	if _, err := s.m.ask(ctx, rid, deleteCmd{caller: id}); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

// LeaveRoom removes the caller, or with user_id another user (staff and
// internal callers only).
func (s *Server) LeaveRoom(ctx context.Context, req *pb.LeaveRoomRequest) (*emptypb.Empty, error) {
	id, rid, err := s.callerIn(ctx, req.GetRoomId())
	if err != nil {
		return nil, err
	}
	target := req.GetUserId()
	if target == "" {
		target = id.UserID
	}
	if ok, _ := id.May(pb.Action_ACTION_MODERATE); target != id.UserID && !ok {
		return nil, refuse(ReasonPermission, "you may only remove yourself")
	}
	reason := strings.TrimSpace(req.GetReason())
	if _, err := s.m.ask(ctx, rid, leaveRoom{userID: target, connectionID: req.GetConnectionId(), reason: reason}); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

// ListMembers returns a room's members.
func (s *Server) ListMembers(ctx context.Context, req *pb.RoomMembersRequest) (*pb.RoomMembersResponse, error) {
	if _, err := s.caller(ctx); err != nil {
		return nil, err
	}
	rid, err := roomID(req.GetRoomId())
	if err != nil {
		return nil, err
	}
	c := s.m.c
	cctx, cancel := c.call(ctx)
	defer cancel()
	resp, err := c.state.RoomMembers(cctx, &pb.RoomMembersRequest{RoomId: rid})
	if err != nil {
		return nil, fromState("room members", err)
	}
	return resp, nil
}
