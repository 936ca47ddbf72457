package room

import (
	"context"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/roomview"
	"google.golang.org/protobuf/types/known/emptypb"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
)

// Moderation commands.
type (
	updateRoomSettings struct {
		caller   auth.Identity
		settings *pb.RoomSettings
	}
	kickCmd struct {
		caller auth.Identity
		req    *pb.KickRequest
	}
	unbanCmd struct {
		caller auth.Identity
		userID string
	}
)

func (m updateRoomSettings) run(ctx context.Context, a *roomActor, _ *actor.Context) (any, error) {
	return a.updateSettings(ctx, m)
}

func (m kickCmd) run(ctx context.Context, a *roomActor, c *actor.Context) (any, error) {
	return nil, a.kick(ctx, c, m)
}

func (m unbanCmd) run(ctx context.Context, a *roomActor, _ *actor.Context) (any, error) {
	return nil, a.unban(ctx, m)
}

// updateSettings changes the fields the caller set, on the room as it is
// (decided again if another replica changed it first); state publishes
// RoomUpdated.
func (a *roomActor) updateSettings(ctx context.Context, m updateRoomSettings) (*pb.Room, error) {
	err := decide(func() (bool, error) {
		r := a.room
		if !a.isOwner(r, m.caller) {
			return false, refuse(ReasonPermission, "only the owner may change the room")
		}
		if err := validateSettings(m.settings, a.c.limits().ceiling(r.GetLobby(), m.caller)); err != nil {
			return false, err
		}
		upd := proto.CloneOf(r)
		if err := applySettings(upd, m.settings); err != nil {
			return false, err
		}
		return a.write(ctx, upd)
	})
	if err != nil {
		return nil, err
	}
	return roomview.Public(a.room), nil
}

// kick removes a member, and bans them for ban_seconds when set. A ban
// alone (the user is not in the room) is allowed: it keeps them out. State
// publishes Kicked, then UserLeft.
func (a *roomActor) kick(ctx context.Context, c *actor.Context, m kickCmd) error {
	caller, target := m.caller, m.req.GetUserId()
	if !a.isOwner(a.room, caller) {
		return refuse(ReasonPermission, "only the owner may kick")
	}
	if target == caller.UserID {
		return refuse(ReasonInvalid, "you cannot kick yourself")
	}
	ban := time.Duration(m.req.GetBanSeconds()) * time.Second
	if ban < 0 {
		return refuse(ReasonInvalid, "ban seconds must not be negative")
	}
	tm, err := a.member(ctx, target)
	if err != nil {
		return err
	}
	if tm != nil && outranks(tm.GetUser().GetRoles(), caller.Highest()) {
		return refuse(ReasonPermission, "you cannot kick a member of the staff")
	}
	if tm == nil && ban == 0 {
		return refuse(ReasonNotInRoom, "the user is not in the room")
	}
	cctx, cancel := a.c.call(ctx)
	res, err := a.c.state.KickFromRoom(cctx, &pb.KickFromRoomRequest{
		RoomId: a.id, UserId: target, ByUserId: caller.UserID, Ban: durationpb.New(ban), Reason: m.req.GetReason(),
	})
	cancel()
	if err != nil {
		return fromState("kick from room", err)
	}
	if !res.GetRemoved() {
		return nil
	}
	delete(a.members, target)
	a.room.MemberCount = res.GetMemberCount()
	a.c.emit(ctx, pb.EventType_EVENT_TYPE_ROOM_LEFT, target, a.id, secondsSince(tm.GetJoinedAt(), a.c.now()))
	if !a.room.GetLobby() && a.room.GetOwnerId() == target {
		a.freeSeat(ctx, target) // a kicked owner does not get the seat back
	}
	a.afterLeave(ctx, c, res.GetMemberCount())
	return nil
}

// unban lifts a room ban (owner or staff).
func (a *roomActor) unban(ctx context.Context, m unbanCmd) error {
	if !a.isOwner(a.room, m.caller) {
		return refuse(ReasonPermission, "only the owner may lift a ban")
	}
	cctx, cancel := a.c.call(ctx)
	defer cancel()
	if _, err := a.c.state.UnbanFromRoom(cctx, &pb.UnbanFromRoomRequest{RoomId: a.id, UserId: m.userID}); err != nil {
		return fromState("unban", err)
	}
	return nil
}

// outranks reports whether a holder of roles is staff at or above the
// caller's rank (who then may not kick them).
func outranks(roles []pb.Role, caller pb.Role) bool {
	top := pb.Role_GUEST
	for _, r := range roles {
		top = max(top, r)
	}
	return top >= pb.Role_MODERATOR && top >= caller
}

// UpdateRoomSettings changes the settings the request sets.
func (s *Server) UpdateRoomSettings(ctx context.Context, req *pb.UpdateRoomSettingsRequest) (*pb.Room, error) {
	id, rid, err := s.callerIn(ctx, req.GetRoomId())
	if err != nil {
		return nil, err
	}
	return askAs[*pb.Room](ctx, s.m, rid, updateRoomSettings{caller: id, settings: req.GetSettings()})
}

// Kick removes a member, with an optional ban.
func (s *Server) Kick(ctx context.Context, req *pb.KickRequest) (*emptypb.Empty, error) {
	id, rid, err := s.callerIn(ctx, req.GetRoomId())
	if err != nil {
		return nil, err
	}
	if req.GetUserId() == "" {
		return nil, refuse(ReasonInvalid, "user_id is required")
	}
	if _, err := s.m.ask(ctx, rid, kickCmd{caller: id, req: req}); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

// Unban lifts a room ban (owner or staff).
func (s *Server) Unban(ctx context.Context, req *pb.UnbanFromRoomRequest) (*emptypb.Empty, error) {
	id, rid, err := s.callerIn(ctx, req.GetRoomId())
	if err != nil {
		return nil, err
	}
	if req.GetUserId() == "" {
		return nil, refuse(ReasonInvalid, "user_id is required")
	}
	if _, err := s.m.ask(ctx, rid, unbanCmd{caller: id, userID: req.GetUserId()}); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}
