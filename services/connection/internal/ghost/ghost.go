package ghost

import (
	"context"
	"errors"
	"log/slog"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/rpc"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Identity is who the tracker acts as: a system caller allowed to remove
// other users from rooms.
var Identity = auth.Identity{UserID: "system:ghost", DisplayName: "ghost", Roles: []pb.Role{pb.Role_ADMIN}}

// Heartbeat refreshes instanceID's heartbeat key (TTL ttl) every ttl/3
// until ctx ends. Errors are logged and retried on the next beat.
func Heartbeat(ctx context.Context, state pb.StateServiceClient, instanceID string, ttl time.Duration, log *slog.Logger) error {
	beat := func() {
		cctx, cancel := context.WithTimeout(ctx, ttl/3)
		defer cancel()
		if _, err := state.Heartbeat(cctx, &pb.HeartbeatRequest{InstanceId: instanceID, Ttl: durationpb.New(ttl)}); err != nil && ctx.Err() == nil {
			log.Warn("instance heartbeat", "instance", instanceID, "err", err)
		}
	}
	beat()
	t := time.NewTicker(ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			beat()
		}
	}
}

// Tracker is the GhostTracker actor: one goroutine (Serve) owning the set
// of instances seen alive.
type Tracker struct {
	Self     string
	Interval time.Duration
	State    pb.StateServiceClient
	Room     pb.RoomServiceClient
	User     pb.UserServiceClient
	Log      *slog.Logger

	seen map[string]bool
}

// Serve sweeps every Interval until ctx ends.
func (t *Tracker) Serve(ctx context.Context) error {
	t.seen = make(map[string]bool)
	tick := time.NewTicker(t.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			if err := t.Sweep(ctx); err != nil && ctx.Err() == nil {
				t.Log.Warn("ghost sweep", "err", err)
			}
		}
	}
}

// Sweep runs one round: instances seen before and missing now are dead;
// their presences are cleaned up, and a dead instance is forgotten once
// nothing of it is left.
func (t *Tracker) Sweep(ctx context.Context) error {
	if t.seen == nil {
		t.seen = make(map[string]bool)
	}
	ctx = auth.OutgoingContext(ctx, Identity)
	res, err := t.State.ListInstances(ctx, &pb.ListInstancesRequest{})
	if err != nil {
		return err
	}
	alive := make(map[string]bool, len(res.GetInstanceIds()))
	for _, id := range res.GetInstanceIds() {
		alive[id] = true
		t.seen[id] = true
	}
	var errs []error
	for id := range t.seen {
		if alive[id] || id == t.Self {
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

// clean removes the users of a dead instance; it returns how many
// presences it could not clear.
func (t *Tracker) clean(ctx context.Context, instance string) (int, error) {
	res, err := t.State.ListInstancePresence(ctx, &pb.ListInstancePresenceRequest{InstanceId: instance})
	if err != nil {
		return 0, err
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
			_, err := t.Room.LeaveRoom(ctx, &pb.LeaveRoomRequest{
				RoomId: p.GetRoomId(), UserId: p.GetUserId(), ConnectionId: p.GetConnectionId(), Reason: "ghost",
			})
			if err != nil && rpc.Reason(err) != "NOT_IN_ROOM" && rpc.Reason(err) != "NOT_FOUND" {
				failed++
				errs = append(errs, err)
				continue
			}
		}
		_, err := t.User.UpdatePresence(ctx, &pb.UpdatePresenceRequest{
			UserId: p.GetUserId(), Online: false, InstanceId: instance, ConnectionId: p.GetConnectionId(),
		})
		if err != nil {
			failed++
			errs = append(errs, err)
			continue
		}
		t.Log.Info("ghost removed", "user", p.GetUserId(), "room", p.GetRoomId(), "instance", instance)
	}
	return failed, errors.Join(errs...)
}

// leaveSeats removes every room member held by instance.
func (t *Tracker) leaveSeats(ctx context.Context, instance string) error {
	var errs []error
	token := ""
	for {
		rooms, err := t.State.ListRooms(ctx, &pb.ListRoomsRequest{IncludePrivate: true, PageSize: 200, PageToken: token})
		if err != nil {
			return err
		}
		for _, r := range rooms.GetRooms() {
			members, err := t.State.RoomMembers(ctx, &pb.RoomMembersRequest{RoomId: r.GetId()})
			if err != nil {
				errs = append(errs, err)
				continue
			}
			for _, m := range members.GetMembers() {
				if m.GetInstanceId() != instance {
					continue
				}
				_, err := t.Room.LeaveRoom(ctx, &pb.LeaveRoomRequest{RoomId: r.GetId(), UserId: m.GetUser().GetId(),
					ConnectionId: m.GetConnectionId(), Reason: "ghost"})
				if err != nil && rpc.Reason(err) != "NOT_IN_ROOM" && rpc.Reason(err) != "NOT_FOUND" {
					errs = append(errs, err)
					continue
				}
				t.Log.Info("ghost left room", "user", m.GetUser().GetId(), "room", r.GetId(), "instance", instance)
			}
		}
		if token = rooms.GetNextPageToken(); token == "" {
			return errors.Join(errs...)
		}
	}
}
