package ghost

import (
	"context"
	"errors"
	"fmt"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/rpc"
)

// Identity is who the tracker acts as: a system caller allowed to remove
// other users from rooms.
var Identity = auth.System("ghost-tracker")

// confirmations is how many discovery passes must find an instance holding
// seats without a heartbeat before it is treated as dead: an instance that
// has just started may hold a seat before its first heartbeat lands.
const confirmations = 2

// sweep runs one round: instances seen alive before (or discovered holding
// seats without a heartbeat) and missing now are dead; their users are
// cleaned up, and a dead instance is forgotten once nothing of it is left.
func (t *tracker) sweep(ctx context.Context, discover bool) error {
	ctx = auth.OutgoingContext(ctx, Identity)
	res, err := t.deps.State.ListInstances(ctx, &pb.ListInstancesRequest{})
	if err != nil {
		return fmt.Errorf("list instances: %w", err)
	}
	alive := make(map[string]bool, len(res.GetInstanceIds()))
	for _, id := range res.GetInstanceIds() {
		alive[id] = true
		t.seen[id] = true
		delete(t.suspects, id)
	}
	// Instances holding presence (every round, one cheap read) or room
	// seats (a walk over every room, on discovery rounds) but no heartbeat
	// died, possibly before this tracker ever saw them alive.
	var errs []error
	holding := make(map[string]bool)
	for _, id := range res.GetPresenceInstanceIds() {
		holding[id] = true
	}
	if discover {
		seats, err := t.seatInstances(ctx)
		if err != nil {
			errs = append(errs, err)
		}
		for id := range seats {
			holding[id] = true
		}
	}
	t.suspect(alive, holding, discover)
	for id := range t.seen {
		if alive[id] || id == t.cfg.Self {
			continue
		}
		left, err := t.clean(ctx, id)
		if err != nil {
			errs = append(errs, err)
		}
		if left == 0 && err == nil {
			delete(t.seen, id)
		}
	}
	return errors.Join(errs...)
}

// suspect counts the instances in holding that have no heartbeat; those
// found in confirmations rounds join seen and are cleaned like any dead
// instance. A full round (complete) also forgets suspects no longer holding
// anything.
func (t *tracker) suspect(alive, holding map[string]bool, complete bool) {
	if complete {
		for id := range t.suspects {
			if !holding[id] {
				delete(t.suspects, id) // its users are gone: nothing to clean
			}
		}
	}
	for id := range holding {
		if alive[id] || t.seen[id] || id == t.cfg.Self {
			continue
		}
		if t.suspects[id]++; t.suspects[id] >= confirmations {
			delete(t.suspects, id)
			t.seen[id] = true
			t.deps.Logger.Info("ghost instance discovered", "instance", id)
		}
	}
}

// seatInstances returns the instances named by room seats.
func (t *tracker) seatInstances(ctx context.Context) (map[string]bool, error) {
	out := make(map[string]bool)
	err := t.eachMember(ctx, func(_ string, m *pb.Member) error {
		if id := m.GetInstanceId(); id != "" {
			out[id] = true
		}
		return nil
	})
	return out, err
}

// eachMember calls fn for every member of every room; errors of single
// rooms are collected, a failed listing ends the walk.
func (t *tracker) eachMember(ctx context.Context, fn func(roomID string, m *pb.Member) error) error {
	var errs []error
	token := ""
	for {
		rooms, err := t.deps.State.ListRooms(ctx, &pb.ListRoomsRequest{IncludePrivate: true, PageSize: 200, PageToken: token})
		if err != nil {
			return errors.Join(append(errs, fmt.Errorf("list rooms: %w", err))...)
		}
		for _, r := range rooms.GetRooms() {
			members, err := t.deps.State.RoomMembers(ctx, &pb.RoomMembersRequest{RoomId: r.GetId()})
			if err != nil {
				errs = append(errs, fmt.Errorf("room members of %s: %w", r.GetId(), err))
				continue
			}
			for _, m := range members.GetMembers() {
				if err := fn(r.GetId(), m); err != nil {
					errs = append(errs, err)
				}
			}
		}
		if token = rooms.GetNextPageToken(); token == "" {
			return errors.Join(errs...)
		}
	}
}

// clean removes the users of a dead instance; it returns how many
// presences it could not clear.
func (t *tracker) clean(ctx context.Context, instance string) (int, error) {
	res, err := t.deps.State.ListInstancePresence(ctx, &pb.ListInstancePresenceRequest{InstanceId: instance})
	if err != nil {
		return 0, fmt.Errorf("presence of %s: %w", instance, err)
	}
	failed := 0
	var errs []error
	// Room seats name their instance too; presence may not carry the room.
	if err := t.leaveSeats(ctx, instance); err != nil {
		failed++
		errs = append(errs, err)
	}
	for _, p := range res.GetPresences() {
		if p.GetRoomId() != "" {
			_, err := t.deps.Room.LeaveRoom(ctx, &pb.LeaveRoomRequest{
				RoomId: p.GetRoomId(), UserId: p.GetUserId(), ConnectionId: p.GetConnectionId(), Reason: "ghost",
			})
			if err != nil && !rpc.IsReason(err, pb.ErrorReason_NOT_IN_ROOM) && !rpc.IsReason(err, pb.ErrorReason_NOT_FOUND) {
				failed++
				errs = append(errs, err)
				continue
			}
		}
		_, err := t.deps.User.UpdatePresence(ctx, &pb.UpdatePresenceRequest{
			UserId: p.GetUserId(), Online: false, InstanceId: instance, ConnectionId: p.GetConnectionId(),
		})
		if err != nil {
			failed++
			errs = append(errs, err)
			continue
		}
		t.deps.Logger.Info("ghost removed", "user", p.GetUserId(), "room", p.GetRoomId(), "instance", instance)
	}
	return failed, errors.Join(errs...)
}

// leaveSeats removes every room member held by instance.
func (t *tracker) leaveSeats(ctx context.Context, instance string) error {
	return t.eachMember(ctx, func(roomID string, m *pb.Member) error {
		if m.GetInstanceId() != instance {
			return nil
		}
		_, err := t.deps.Room.LeaveRoom(ctx, &pb.LeaveRoomRequest{RoomId: roomID, UserId: m.GetUser().GetId(),
			ConnectionId: m.GetConnectionId(), Reason: "ghost"})
		if err != nil && !rpc.IsReason(err, pb.ErrorReason_NOT_IN_ROOM) && !rpc.IsReason(err, pb.ErrorReason_NOT_FOUND) {
			return fmt.Errorf("leave %s: %w", roomID, err)
		}
		t.deps.Logger.Info("ghost left room", "user", m.GetUser().GetId(), "room", roomID, "instance", instance)
		return nil
	})
}
