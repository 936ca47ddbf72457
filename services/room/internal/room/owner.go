package room

import (
	"context"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/roomview"
	"time"

	"google.golang.org/protobuf/proto"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
)

// Ownership commands.
type (
	transferCmd struct {
		caller auth.Identity
		userID string
	}
	claimCmd struct{ caller auth.Identity }
	// seatExpired is told by the actor's own seat timer with the departure
	// it was armed for; the handler re-checks the room, so a stale or
	// duplicated notice (after a restart) does nothing.
	seatExpired struct{ leftAt time.Time }
)

func (m transferCmd) run(ctx context.Context, a *roomActor, _ *actor.Context) (any, error) {
	return a.transfer(ctx, m)
}

func (m claimCmd) run(ctx context.Context, a *roomActor, _ *actor.Context) (any, error) {
	return a.claim(ctx, m)
}

func (m seatExpired) run(ctx context.Context, a *roomActor, c *actor.Context) (any, error) {
	return nil, a.seatExpired(ctx, c, m)
}

// transfer gives the room to another member; state publishes OwnerChanged.
func (a *roomActor) transfer(ctx context.Context, m transferCmd) (*pb.Room, error) {
	if a.room.GetLobby() {
		return nil, refuse(ReasonPermission, "lobbies have no owner")
	}
	if !a.isOwner(a.room, m.caller) {
		return nil, refuse(ReasonPermission, "only the owner may transfer the room")
	}
	seat, err := a.member(ctx, m.userID)
	if err != nil {
		return nil, err
	}
	if seat == nil {
		return nil, refuse(ReasonNotInRoom, "the new owner must be in the room")
	}
	return a.setOwner(ctx, m.userID, func(r *pb.Room) error {
		if !a.isOwner(r, m.caller) {
			return refuse(ReasonPermission, "only the owner may transfer the room")
		}
		return nil
	})
}

// claim takes the owner's seat: free, or held longer than OwnerSeatHold by
// an owner who is not in the room. Staff may take it at any time.
func (a *roomActor) claim(ctx context.Context, m claimCmd) (*pb.Room, error) {
	if a.room.GetLobby() {
		return nil, refuse(ReasonPermission, "lobbies have no owner")
	}
	if a.room.GetOwnerId() == m.caller.UserID {
		return roomview.Public(a.room), nil
	}
	seat, err := a.member(ctx, m.caller.UserID)
	if err != nil {
		return nil, err
	}
	if seat == nil {
		return nil, refuse(ReasonNotInRoom, "only members may claim the room")
	}
	staff, _ := m.caller.May(pb.Action_ACTION_MODERATE)
	if !staff {
		if err := a.refreshOwnerSeat(ctx); err != nil {
			return nil, err
		}
	}
	return a.setOwner(ctx, m.caller.UserID, func(r *pb.Room) error {
		if !staff && !a.seatFree(r) {
			return refuse(ReasonPermission, "the owner's seat is taken or still held")
		}
		return nil
	})
}

// refreshOwnerSeat makes sure the actor knows whether the owner holds a
// seat (they may have come back through another replica).
func (a *roomActor) refreshOwnerSeat(ctx context.Context) error {
	if owner := a.room.GetOwnerId(); owner != "" && a.members[owner] == nil {
		return a.loadMembers(ctx)
	}
	return nil
}

// seatFree reports whether the owner's seat of r may be claimed.
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

// setOwner makes userID the owner, checking allowed on the room as it is
// each time it is decided.
func (a *roomActor) setOwner(ctx context.Context, userID string, allowed func(*pb.Room) error) (*pb.Room, error) {
	err := decide(func() (bool, error) {
		r := a.room
		if err := allowed(r); err != nil {
			return false, err
		}
		if r.GetOwnerId() == userID && r.GetOwnerLeftAt() == nil {
			return false, nil
		}
		upd := proto.CloneOf(r)
		upd.OwnerId = userID
		upd.OwnerLeftAt = nil
		return a.write(ctx, upd)
	})
	if err != nil {
		return nil, err
	}
	stopTimer(&a.seatTimer)
	return roomview.Public(a.room), nil
}

// seatExpired frees the seat of an owner who did not come back in time.
func (a *roomActor) seatExpired(ctx context.Context, c *actor.Context, m seatExpired) error {
	a.seatTimer = nil
	left := a.room.GetOwnerLeftAt()
	if a.room.GetOwnerId() == "" || left == nil || !left.AsTime().Equal(m.leftAt) {
		return nil // returned, transferred or claimed meanwhile
	}
	if err := a.refreshOwnerSeat(ctx); err != nil {
		return err
	}
	if a.members[a.room.GetOwnerId()] != nil {
		return nil
	}
	a.freeSeat(ctx, a.room.GetOwnerId())
	return nil
}

// freeSeat empties the owner's seat if ownerID still has it; state
// announces it (OwnerChanged with owner_id "").
func (a *roomActor) freeSeat(ctx context.Context, ownerID string) {
	err := decide(func() (bool, error) {
		r := a.room
		if r.GetOwnerId() != ownerID {
			return false, nil
		}
		upd := proto.CloneOf(r)
		upd.OwnerId = ""
		upd.OwnerLeftAt = nil
		return a.write(ctx, upd)
	})
	if err != nil {
		a.c.log.WarnContext(ctx, "free owner seat", "room", a.id, "err", err)
		return
	}
	stopTimer(&a.seatTimer)
}

// TransferOwnership gives the room to another member.
func (s *Server) TransferOwnership(ctx context.Context, req *pb.TransferOwnershipRequest) (*pb.Room, error) {
	id, rid, err := s.callerIn(ctx, req.GetRoomId())
	if err != nil {
		return nil, err
	}
	return askAs[*pb.Room](ctx, s.m, rid, transferCmd{caller: id, userID: req.GetUserId()})
}

// ClaimOwnership takes a free owner's seat.
func (s *Server) ClaimOwnership(ctx context.Context, req *pb.ClaimOwnershipRequest) (*pb.Room, error) {
	id, rid, err := s.callerIn(ctx, req.GetRoomId())
	if err != nil {
		return nil, err
	}
	return askAs[*pb.Room](ctx, s.m, rid, claimCmd{caller: id})
}
