// Command room runs the room service (RoomManager) alone, on its gRPC port.
// Every flag has an environment variable; the configuration is printed at
// start with secrets masked.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"google.golang.org/grpc"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/flagenv"
	"github.com/pianorhythm/server/pkg/rpc"
	"github.com/pianorhythm/server/pkg/store"
	"github.com/pianorhythm/server/pkg/telemetry"
	"github.com/pianorhythm/server/pkg/track"
	"github.com/pianorhythm/server/services/room/roomsvc"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "room:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) (err error) {
	fs := flagenv.New("room")
	addr := fs.String("addr", "PR_ROOM_ADDR", "127.0.0.1:9103", "RoomService gRPC address")
	stateAddr := fs.String("state-addr", "PR_STATE_ADDR", "127.0.0.1:9101", "state service")
	userAddr := fs.String("user-addr", "PR_USER_ADDR", "127.0.0.1:9102", "user service (JWKS)")
	redisURL := fs.Secret("redis-url", "REDIS_URL", "", "Redis URL for analytics events (empty: events are dropped)")
	stream := fs.String("analytics-stream", "PR_ANALYTICS_STREAM", "analytics:events", "analytics Redis stream")
	grace := fs.Duration("empty-room-grace", "PR_EMPTY_ROOM_GRACE", 30*time.Second, "how long an empty room lives")
	hold := fs.Duration("owner-seat-hold", "PR_OWNER_SEAT_HOLD", 15*time.Second, "how long a departed owner's seat is held")
	otlp := fs.String("otlp-endpoint", "OTEL_EXPORTER_OTLP_ENDPOINT", "", "OTLP gRPC endpoint (empty: no export)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	fs.Print(os.Stderr)

	tel, err := telemetry.Setup(ctx, telemetry.Config{ServiceName: "room", OTLPEndpoint: *otlp})
	if err != nil {
		return err
	}
	tel.Install()
	defer func() { err = errors.Join(err, tel.Shutdown(context.Background())) }()
	log := tel.Logger()

	stateConn, err := rpc.Dial(rpc.ClientConfig{Target: *stateAddr, Name: "state", Logger: log})
	if err != nil {
		return fmt.Errorf("dial state: %w", err)
	}
	defer stateConn.Close()
	userConn, err := rpc.Dial(rpc.ClientConfig{Target: *userAddr, Name: "user", Logger: log})
	if err != nil {
		return fmt.Errorf("dial user: %w", err)
	}
	defer userConn.Close()
	user := pb.NewUserServiceClient(userConn)
	verifier, err := auth.NewVerifier(auth.VerifierConfig{Fetch: func(ctx context.Context) (*pb.JwksResponse, error) {
		return user.Jwks(ctx, &pb.JwksRequest{})
	}})
	if err != nil {
		return err
	}

	deps := roomsvc.Deps{State: pb.NewStateServiceClient(stateConn), Verifier: verifier, Logger: log}
	if *redisURL != "" {
		rdb, err := store.OpenRedis(ctx, store.RedisConfig{URL: *redisURL})
		if err != nil {
			return err
		}
		defer rdb.Close()
		em := track.NewEmitter(rdb.Client, track.Config{Stream: *stream, Logger: log})
		defer func() {
			cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err = errors.Join(err, em.Close(cctx))
		}()
		deps.Events = em
	}

	svc, err := roomsvc.New(roomsvc.Config{EmptyRoomGrace: *grace, OwnerSeatHold: *hold}, deps)
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = errors.Join(err, svc.Close(cctx))
	}()

	gs, err := rpc.NewServer(rpc.ServerConfig{Name: "room", Addr: *addr, Logger: log,
		UnaryInterceptors: []grpc.UnaryServerInterceptor{svc.UnaryInterceptor()}})
	if err != nil {
		return err
	}
	svc.Register(gs.GRPC())
	gs.SetServing(pb.RoomService_ServiceDesc.ServiceName, true)
	log.Info("room service listening", "addr", gs.Addr())
	return gs.Serve(ctx)
}
