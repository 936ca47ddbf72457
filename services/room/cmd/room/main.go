// Command room runs the room service (RoomManager) alone. Every flag has an
// environment variable (-help lists them); the configuration is printed at
// start with secrets masked.
package main

import (
	"context"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/boot"
	"github.com/pianorhythm/server/services/room/roomsvc"
)

func main() { boot.Main("room", "127.0.0.1:9103", run) }

func run(ctx context.Context, p *boot.Program) error {
	fs := p.Flags
	stateAddr := p.Peer("state", "127.0.0.1:9101")
	redisURL := fs.Secret("redis-url", "REDIS_URL", "", "Redis URL for analytics events (empty: events are dropped)")
	stream := fs.String("analytics-stream", "PR_ANALYTICS_STREAM", "pr:analytics:events", "analytics Redis stream")
	grace := fs.Duration("empty-room-grace", "PR_EMPTY_ROOM_GRACE", 30*time.Second, "how long an empty room lives")
	maxCap := fs.Int("max-room-capacity", "PR_MAX_ROOM_CAPACITY", 500, "largest max players staff may give a room (concerts, classes); others keep 20")
	hold := fs.Duration("owner-seat-hold", "PR_OWNER_SEAT_HOLD", 15*time.Second, "how long a departed owner's seat is held")
	if err := p.Parse(ctx); err != nil {
		return err
	}
	stateConn, err := p.Dial("state", *stateAddr)
	if err != nil {
		return err
	}
	// The lobby is created through the state service at start.
	if err := p.WaitServing(ctx, stateConn, pb.StateService_ServiceDesc.ServiceName); err != nil {
		return err
	}
	verifier, err := p.Tokens()
	if err != nil {
		return err
	}
	deps := roomsvc.Deps{
		State: pb.NewStateServiceClient(stateConn), Verifier: verifier, Logger: p.Log,
		Meter: p.Meter(), OnPanic: p.ActorPanics, OnGiveUp: p.ActorGaveUp,
	}
	if *redisURL != "" {
		rdb, err := p.Redis(ctx, *redisURL)
		if err != nil {
			return err
		}
		deps.Events = p.Events(rdb, *stream)
	}
	svc, err := roomsvc.New(roomsvc.Config{EmptyRoomGrace: *grace, OwnerSeatHold: *hold, MaxRoomCapacity: int32(*maxCap)}, deps)
	if err != nil {
		return err
	}
	p.Defer(svc.Close)
	p.ReadyWhen(svc.Ready)
	return p.Serve(ctx, pb.RoomService_ServiceDesc.ServiceName, svc.Register)
}
