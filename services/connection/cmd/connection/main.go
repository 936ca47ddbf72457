// Command connection runs the edge alone: the WebSocket endpoint, the REST
// gateway and the web client on the HTTP port, the ConnectionService admin
// RPCs on the gRPC port. Every flag has an environment variable.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/flagenv"
	"github.com/pianorhythm/server/pkg/rpc"
	"github.com/pianorhythm/server/pkg/store"
	"github.com/pianorhythm/server/pkg/telemetry"
	"github.com/pianorhythm/server/services/connection/connsvc"
	"github.com/pianorhythm/server/services/connection/internal/web"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "connection:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flagenv.New("connection")
	httpAddr := fs.String("http-addr", "PR_HTTP_ADDR", ":8080", "edge HTTP address (/ws, /v1, web client)")
	grpcAddr := fs.String("grpc-addr", "PR_CONNECTION_ADDR", "127.0.0.1:9104", "ConnectionService gRPC address")
	redisURL := fs.Secret("redis-url", "REDIS_URL", "", "Redis URL (empty: embedded)")
	stateAddr := fs.String("state-addr", "PR_STATE_ADDR", "127.0.0.1:9101", "state service")
	userAddr := fs.String("user-addr", "PR_USER_ADDR", "127.0.0.1:9102", "user service")
	roomAddr := fs.String("room-addr", "PR_ROOM_ADDR", "127.0.0.1:9103", "room service")
	analyticsAddr := fs.String("analytics-addr", "PR_ANALYTICS_ADDR", "127.0.0.1:9105", "analytics service (REST gateway)")
	monitorAddr := fs.String("monitor-addr", "PR_MONITOR_ADDR", "127.0.0.1:9106", "monitor service (REST gateway)")
	instance := fs.String("instance-id", "PR_INSTANCE_ID", "", "edge instance id (empty: generated)")
	prefix := fs.String("key-prefix", "PR_KEY_PREFIX", "pr:", "Redis key and channel prefix")
	otlp := fs.String("otlp-endpoint", "OTEL_EXPORTER_OTLP_ENDPOINT", "", "OTLP gRPC endpoint (empty: no export)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	fs.Print(os.Stderr)

	tel, err := telemetry.Setup(ctx, telemetry.Config{ServiceName: "connection", OTLPEndpoint: *otlp})
	if err != nil {
		return err
	}
	defer tel.Shutdown(context.Background())
	log := tel.Logger()

	rdb, err := store.OpenRedis(ctx, store.RedisConfig{URL: *redisURL})
	if err != nil {
		return err
	}
	defer rdb.Close()

	dial := func(name, target string) (*grpc.ClientConn, error) {
		return rpc.Dial(rpc.ClientConfig{Target: target, Name: name, Logger: log})
	}
	conns := map[string]*grpc.ClientConn{}
	for name, addr := range map[string]string{"state": *stateAddr, "user": *userAddr, "room": *roomAddr,
		"analytics": *analyticsAddr, "monitor": *monitorAddr, "connection": *grpcAddr} {
		cc, err := dial(name, addr)
		if err != nil {
			return fmt.Errorf("dial %s: %w", name, err)
		}
		defer cc.Close()
		conns[name] = cc
	}
	user := pb.NewUserServiceClient(conns["user"])
	verifier, err := auth.NewVerifier(auth.VerifierConfig{Fetch: func(ctx context.Context) (*pb.JwksResponse, error) {
		return user.Jwks(ctx, &pb.JwksRequest{})
	}})
	if err != nil {
		return err
	}

	svc, err := connsvc.New(connsvc.Config{InstanceID: *instance, KeyPrefix: *prefix}, connsvc.Deps{
		Redis: rdb.Client, Room: pb.NewRoomServiceClient(conns["room"]), User: user,
		State: pb.NewStateServiceClient(conns["state"]), Verifier: verifier,
		Gateway: connsvc.Gateway{User: conns["user"], Room: conns["room"], State: conns["state"],
			Analytics: conns["analytics"], Monitor: conns["monitor"], Connection: conns["connection"]},
		Web: web.Handler(), Metrics: tel.MetricsHandler(), Logger: log,
		Meter: tel.MeterProvider().Meter("connection"), TracerProvider: tel.TracerProvider(),
	})
	if err != nil {
		return err
	}
	gs, err := rpc.NewServer(rpc.ServerConfig{Name: "connection", Addr: *grpcAddr, Logger: log,
		UnaryInterceptors: []grpc.UnaryServerInterceptor{auth.UnaryServerInterceptor(verifier)}})
	if err != nil {
		return err
	}
	svc.Register(gs.GRPC())
	gs.SetServing(pb.ConnectionService_ServiceDesc.ServiceName, true)

	lis, err := net.Listen("tcp", *httpAddr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", *httpAddr, err)
	}
	hs := &http.Server{Handler: svc.Handler(), ReadHeaderTimeout: 10 * time.Second}
	log.Info("edge listening", "http", lis.Addr().String(), "grpc", gs.Addr(), "instance", svc.InstanceID())

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return gs.Serve(gctx) })
	g.Go(func() error {
		if err := hs.Serve(lis); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		// Sockets first (4000), so clients reconnect elsewhere, then HTTP.
		err := svc.Close(sctx)
		return errors.Join(err, hs.Shutdown(sctx))
	})
	if err := g.Wait(); err != nil {
		slog.Default().Debug("stopped", "err", err)
		return err
	}
	return nil
}
