package room

import (
	"context"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/pkg/auth"
)

// chatHistoryOnJoin is how many past messages a joiner receives.
const chatHistoryOnJoin = 100

// join checks the rules that are the room service's (password, pro-only,
// guests) and lets state add the member, which checks capacity, bans and
// maintenance atomically.
func (a *roomActor) join(ctx context.Context, c *actor.Context, m joinRoom) (*pb.JoinRoomResponse, error) {
	r, err := a.loadRoom(ctx)
	if err != nil {
		return nil, err
	}
	id := m.caller
	owner := !r.GetLobby() && r.GetOwnerId() == id.UserID
	if !id.Staff() && !owner {
		if h := r.GetPasswordHash(); h != "" && h != m.verifiedHash {
			// The password changed since the handler checked it (or it was
			// not checked): check again here.
			if m.req.GetPassword() == "" || !checkPassword(h, m.req.GetPassword()) {
				return nil, refuse(ReasonWrongPassword, "wrong password")
			}
		}
		if r.GetSettings().GetProOnly() && !id.Has(pb.Role_PRO) {
			return nil, refuse(ReasonProOnly, "this room is for pro members")
		}
		if id.Guest && !r.GetSettings().GetAllowGuests() {
			return nil, refuse(ReasonGuestsNotAllowed, "guests may not join this room")
		}
	}
	user := a.profile(ctx, id)
	now := a.c.now()
	member := &pb.Member{
		User:         user,
		JoinedAt:     timestamppb.New(now),
		InstanceId:   m.req.GetInstanceId(),
		ConnectionId: m.req.GetConnectionId(),
	}
	cctx, cancel := a.c.call(ctx)
	added, err := a.c.state.AddUserToRoom(cctx, &pb.AddUserToRoomRequest{RoomId: a.id, Member: member, Staff: id.Staff()})
	cancel()
	if err != nil {
		return nil, fromState("add user to room", err)
	}
	a.room, a.roomAt = added.GetRoom(), now
	stopTimer(&a.emptyTimer)

	// The owner came back while the seat was held: it stays theirs.
	if owner && a.room.GetOwnerLeftAt() != nil {
		stopTimer(&a.seatTimer)
		upd := proto.CloneOf(a.room)
		upd.OwnerLeftAt = nil
		if err := a.saveRoom(ctx, upd); err != nil {
			a.c.log.WarnContext(ctx, "keep owner seat", "room", a.id, "err", err)
		}
	}

	members, err := a.loadMembers(ctx)
	if err != nil {
		return nil, err
	}
	cctx, cancel = a.c.call(ctx)
	hist, err := a.c.state.ChatHistory(cctx, &pb.ChatHistoryRequest{RoomId: a.id, Limit: chatHistoryOnJoin})
	cancel()
	if err != nil {
		return nil, fromState("chat history", err)
	}
	if !added.GetAlreadyMember() {
		a.c.publish(ctx, a.id, func(e *pb.RoomEvent) {
			e.Event = &pb.RoomEvent_UserJoined{UserJoined: &pb.UserJoined{RoomId: a.id, Member: member}}
		})
		a.c.emit(ctx, pb.EventType_EVENT_TYPE_ROOM_JOINED, id.UserID, a.id, 0)
	}
	name := user.GetDisplayName()
	if name == "" {
		name = id.UserID
	}
	return &pb.JoinRoomResponse{
		Room:                 public(a.room),
		Members:              members,
		ChatHistory:          hist.GetMessages(),
		WelcomeMessage:       welcome(a.room.GetSettings().GetWelcomeMessage(), name),
		PreviousConnectionId: added.GetPreviousConnectionId(),
	}, nil
}

// profile is the user as members see them: the stored profile when state
// has one (color, badges), with the roles and name of the verified
// identity, which are fresher.
func (a *roomActor) profile(ctx context.Context, id auth.Identity) *pb.User {
	u := &pb.User{Id: id.UserID}
	if !id.Internal() {
		cctx, cancel := a.c.call(ctx)
		stored, err := a.c.state.GetUser(cctx, &pb.GetUserRequest{UserId: id.UserID})
		cancel()
		if err == nil && stored != nil {
			u = stored
		}
	}
	if id.DisplayName != "" {
		u.DisplayName = id.DisplayName
	}
	if len(id.Roles) > 0 {
		u.Roles = append([]pb.Role(nil), id.Roles...)
	}
	u.Guest = id.Guest
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

// remove takes userID out of the room, publishes UserLeft, and handles
// what follows: the owner's seat hold, and an empty room's removal.
func (a *roomActor) remove(ctx context.Context, c *actor.Context, userID, connectionID, reason string) (bool, error) {
	var joinedAt *timestamppb.Timestamp
	if m := a.members[userID]; m != nil {
		joinedAt = m.GetJoinedAt()
	}
	cctx, cancel := a.c.call(ctx)
	res, err := a.c.state.RemoveUserFromRoom(cctx, &pb.RemoveUserFromRoomRequest{RoomId: a.id, UserId: userID, ConnectionId: connectionID})
	cancel()
	if err != nil {
		if isReason(err, ReasonNotFound) {
			return false, nil
		}
		return false, fromState("remove user from room", err)
	}
	if !res.GetRemoved() {
		return false, nil
	}
	delete(a.members, userID)
	now := a.c.now()
	a.c.publish(ctx, a.id, func(e *pb.RoomEvent) {
		e.Event = &pb.RoomEvent_UserLeft{UserLeft: &pb.UserLeft{RoomId: a.id, UserId: userID, Reason: reason}}
	})
	a.c.emit(ctx, pb.EventType_EVENT_TYPE_ROOM_LEFT, userID, a.id, secondsSince(joinedAt, now))

	r, err := a.loadRoom(ctx)
	if err != nil {
		return true, err
	}
	if !r.GetLobby() && r.GetOwnerId() == userID {
		if reason == "kicked" {
			// A kicked owner does not get the seat back.
			a.freeSeat(ctx, r)
		} else {
			upd := proto.CloneOf(r)
			upd.OwnerLeftAt = timestamppb.New(now)
			if err := a.saveRoom(ctx, upd); err != nil {
				return true, err
			}
			a.armSeat(c.Self(), upd.GetOwnerLeftAt().AsTime(), a.c.opt.OwnerSeatHold)
		}
	}
	if res.GetMemberCount() > 0 {
		return true, nil
	}
	switch lobbyIndex(a.id) {
	case 1: // the lobby stays
	case 0:
		a.armEmpty(c.Self())
	default: // overflow lobbies go as soon as they are empty
		if err := a.destroy(ctx, c); err != nil {
			a.c.log.WarnContext(ctx, "remove empty lobby", "room", a.id, "err", err)
		}
	}
	return true, nil
}

// emptyExpired removes the room if it is still empty after the grace.
func (a *roomActor) emptyExpired(ctx context.Context, c *actor.Context) error {
	a.emptyTimer = nil
	if lobbyIndex(a.id) == 1 {
		return nil
	}
	members, err := a.loadMembers(ctx)
	if err != nil {
		return err
	}
	if len(members) > 0 {
		return nil
	}
	return a.destroy(ctx, c)
}

// deleteByUser deletes the room on its owner's or staff's request.
func (a *roomActor) deleteByUser(ctx context.Context, c *actor.Context, m deleteCmd) error {
	r, err := a.loadRoom(ctx)
	if err != nil {
		return err
	}
	if r.GetLobby() || lobbyIndex(a.id) > 0 {
		return refuse(ReasonPermission, "lobbies cannot be deleted")
	}
	if !a.isOwner(r, m.caller) {
		return refuse(ReasonPermission, "only the owner may delete the room")
	}
	return a.destroy(ctx, c)
}

// destroy deletes the room from state, tells its members, and stops the
// actor.
func (a *roomActor) destroy(ctx context.Context, c *actor.Context) error {
	cctx, cancel := a.c.call(ctx)
	_, err := a.c.state.DeleteRoom(cctx, &pb.DeleteRoomRequest{RoomId: a.id})
	cancel()
	if err != nil && !isReason(err, ReasonNotFound) {
		return fromState("delete room", err)
	}
	a.c.publish(ctx, a.id, func(e *pb.RoomEvent) {
		e.Event = &pb.RoomEvent_RoomDeleted{RoomDeleted: &pb.RoomDeleted{RoomId: a.id}}
	})
	a.gone = true
	stopTimer(&a.seatTimer)
	stopTimer(&a.emptyTimer)
	c.Stop() // the RoomManager watches it and forgets it
	return nil
}
