package room

import (
	"context"

	"google.golang.org/protobuf/proto"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

// transfer gives the room to another member.
func (a *roomActor) transfer(ctx context.Context, m transferCmd) (*pb.Room, error) {
	r, err := a.loadRoom(ctx)
	if err != nil {
		return nil, err
	}
	if r.GetLobby() {
		return nil, refuse(ReasonPermission, "lobbies have no owner")
	}
	if !a.isOwner(r, m.caller) {
		return nil, refuse(ReasonPermission, "only the owner may transfer the room")
	}
	if _, err := a.loadMembers(ctx); err != nil {
		return nil, err
	}
	if a.members[m.userID] == nil {
		return nil, refuse(ReasonNotInRoom, "the new owner must be in the room")
	}
	return a.setOwner(ctx, r, m.userID)
}

// claim takes the owner's seat: free, or held longer than OwnerSeatHold by
// an owner who is not in the room. Staff may take it at any time.
func (a *roomActor) claim(ctx context.Context, m claimCmd) (*pb.Room, error) {
	r, err := a.loadRoom(ctx)
	if err != nil {
		return nil, err
	}
	if r.GetLobby() {
		return nil, refuse(ReasonPermission, "lobbies have no owner")
	}
	if r.GetOwnerId() == m.caller.UserID {
		return public(r), nil
	}
	if _, err := a.loadMembers(ctx); err != nil {
		return nil, err
	}
	if a.members[m.caller.UserID] == nil {
		return nil, refuse(ReasonNotInRoom, "only members may claim the room")
	}
	if !m.caller.Staff() && !a.seatFree(r) {
		return nil, refuse(ReasonPermission, "the owner's seat is taken or still held")
	}
	return a.setOwner(ctx, r, m.caller.UserID)
}

// seatFree reports whether the owner's seat may be claimed.
func (a *roomActor) seatFree(r *pb.Room) bool {
	owner := r.GetOwnerId()
	if owner == "" {
		return true
	}
	if a.members[owner] != nil {
		return false
	}
	// An owner who is gone without a recorded departure (a replica failed
	// between removing them and saving the room) does not block the seat.
	left := r.GetOwnerLeftAt()
	return left == nil || !a.c.now().Before(left.AsTime().Add(a.c.opt.OwnerSeatHold))
}

func (a *roomActor) setOwner(ctx context.Context, r *pb.Room, userID string) (*pb.Room, error) {
	prev := r.GetOwnerId()
	upd := proto.CloneOf(r)
	upd.OwnerId = userID
	upd.OwnerLeftAt = nil
	if err := a.saveRoom(ctx, upd); err != nil {
		return nil, err
	}
	stopTimer(&a.seatTimer)
	if prev != userID {
		a.c.publish(ctx, a.id, func(e *pb.RoomEvent) {
			e.Event = &pb.RoomEvent_OwnerChanged{OwnerChanged: &pb.OwnerChanged{RoomId: a.id, OwnerId: userID, PreviousOwnerId: prev}}
		})
	}
	return public(a.room), nil
}

// seatExpired frees the seat of an owner who did not come back in time.
func (a *roomActor) seatExpired(ctx context.Context, m seatExpired) error {
	r, err := a.loadRoom(ctx)
	if err != nil {
		return err
	}
	left := r.GetOwnerLeftAt()
	if r.GetOwnerId() == "" || left == nil || !left.AsTime().Equal(m.leftAt) {
		return nil // returned, transferred or claimed meanwhile
	}
	if _, err := a.loadMembers(ctx); err != nil {
		return err
	}
	if a.members[r.GetOwnerId()] != nil {
		return nil
	}
	a.freeSeat(ctx, r)
	return nil
}

// freeSeat empties the owner's seat and announces it (owner_id "").
func (a *roomActor) freeSeat(ctx context.Context, r *pb.Room) {
	prev := r.GetOwnerId()
	upd := proto.CloneOf(r)
	upd.OwnerId = ""
	upd.OwnerLeftAt = nil
	if err := a.saveRoom(ctx, upd); err != nil {
		a.c.log.WarnContext(ctx, "free owner seat", "room", a.id, "err", err)
		return
	}
	stopTimer(&a.seatTimer)
	a.c.publish(ctx, a.id, func(e *pb.RoomEvent) {
		e.Event = &pb.RoomEvent_OwnerChanged{OwnerChanged: &pb.OwnerChanged{RoomId: a.id, PreviousOwnerId: prev}}
	})
}
