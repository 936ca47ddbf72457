// Command room runs the room service (RoomManager) alone. Every flag has an
// environment variable (-help lists them); the configuration is printed at
// start with secrets masked.
package main

import (
	"context"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/boot"
	"github.com/pianorhythm/server/pkg/track"
	"github.com/pianorhythm/server/services/room/roomsvc"
)

func main() { boot.Main("room", "127.0.0.1:9103", run) }

func run(ctx context.Context, p *boot.Program) error {
	fs := p.Flags
	stateAddr := p.Peer("state", "127.0.0.1:9101")
	userAddr := p.Peer("user", "127.0.0.1:9102")
	redisURL := fs.Secret("redis-url", "REDIS_URL", "", "Redis URL for analytics events (empty: events are dropped)")
	stream := fs.String("analytics-stream", "PR_ANALYTICS_STREAM", "pr:analytics:events", "analytics Redis stream")
	grace := fs.Duration("empty-room-grace", "PR_EMPTY_ROOM_GRACE", 30*time.Second, "how long an empty room lives")
	hold := fs.Duration("owner-seat-hold", "PR_OWNER_SEAT_HOLD", 15*time.Second, "how long a departed owner's seat is held")
	if err := p.Parse(ctx); err != nil {
		return err
	}
	stateConn, err := p.Dial("state", *stateAddr)
	if err != nil {
		return err
	}
	userConn, err := p.Dial("user", *userAddr)
	if err != nil {
		return err
	}
	verifier, err := p.Verifier(userConn)
	if err != nil {
		return err
	}
	deps := roomsvc.Deps{
		State: pb.NewStateServiceClient(stateConn), Verifier: verifier, Logger: p.Log,
		Meter: p.Meter(), OnPanic: p.ActorPanics,
	}
	if *redisURL != "" {
		rdb, err := p.Redis(ctx, *redisURL)
		if err != nil {
			return err
		}
		events := track.NewEmitter(rdb.Client, track.Config{Stream: *stream, Logger: p.Log})
		p.Defer(events.Close)
		deps.Events = events
	}
	svc, err := roomsvc.New(roomsvc.Config{EmptyRoomGrace: *grace, OwnerSeatHold: *hold}, deps)
	if err != nil {
		return err
	}
	p.Defer(svc.Close)
	return p.Serve(ctx, pb.RoomService_ServiceDesc.ServiceName, svc.Register, svc.UnaryInterceptor())
}
