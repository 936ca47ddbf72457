package room

import (
	"context"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
)

// updateSettings changes the fields the caller set.
func (a *roomActor) updateSettings(ctx context.Context, m updateRoomSettings) (*pb.Room, error) {
	r, err := a.loadRoom(ctx)
	if err != nil {
		return nil, err
	}
	if !a.isOwner(r, m.caller) {
		return nil, refuse(ReasonPermission, "only the owner may change the room")
	}
	if err := validateSettings(m.settings, a.c.limits().capacity(r.GetLobby())); err != nil {
		return nil, err
	}
	upd := proto.CloneOf(r)
	if err := applySettings(upd, m.settings); err != nil {
		return nil, err
	}
	if err := a.saveRoom(ctx, upd); err != nil {
		return nil, err
	}
	room := public(a.room)
	a.c.publish(ctx, a.id, func(e *pb.RoomEvent) {
		e.Event = &pb.RoomEvent_RoomUpdated{RoomUpdated: &pb.RoomUpdated{Room: room}}
	})
	return room, nil
}

// kick removes a member, and bans them for ban_seconds when set. A ban
// alone (the user is not in the room) is allowed: it keeps them out.
func (a *roomActor) kick(ctx context.Context, c *actor.Context, m kickCmd) error {
	r, err := a.loadRoom(ctx)
	if err != nil {
		return err
	}
	caller, target := m.caller, m.req.GetUserId()
	if !a.isOwner(r, caller) {
		return refuse(ReasonPermission, "only the owner may kick")
	}
	if target == caller.UserID {
		return refuse(ReasonInvalid, "you cannot kick yourself")
	}
	if _, err := a.loadMembers(ctx); err != nil {
		return err
	}
	if tm := a.members[target]; tm != nil && outranks(tm.GetUser().GetRoles(), caller.Highest()) {
		return refuse(ReasonPermission, "you cannot kick a member of the staff")
	}
	ban := time.Duration(m.req.GetBanSeconds()) * time.Second
	if ban < 0 {
		return refuse(ReasonInvalid, "ban seconds must not be negative")
	}
	if a.members[target] == nil && ban == 0 {
		return refuse(ReasonNotInRoom, "the user is not in the room")
	}
	if ban > 0 {
		cctx, cancel := a.c.call(ctx)
		_, err := a.c.state.BanFromRoom(cctx, &pb.BanFromRoomRequest{RoomId: a.id, UserId: target, Duration: durationpb.New(ban)})
		cancel()
		if err != nil {
			return fromState("ban from room", err)
		}
	}
	a.c.publish(ctx, a.id, func(e *pb.RoomEvent) {
		e.Event = &pb.RoomEvent_Kicked{Kicked: &pb.Kicked{
			RoomId: a.id, UserId: target, ByUserId: caller.UserID,
			BanSeconds: m.req.GetBanSeconds(), Reason: m.req.GetReason(),
		}}
	})
	// Kicked goes out before UserLeft so edges can tell the user why.
	if _, err := a.remove(ctx, c, target, "", "kicked"); err != nil {
		return err
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
