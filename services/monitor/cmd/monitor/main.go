// Command monitor runs the monitor service alone: MonitorService on its
// gRPC port, and /status (HTML, or JSON with ?format=json) plus /metrics
// on a small HTTP port. Every flag has an environment variable; the
// configuration is printed at start with secrets masked.
//
// The services to check are given by their gRPC addresses (the same
// PR_<SERVICE>_ADDR variables the other programs use to reach them); an
// empty address leaves that service off the status page, as an empty
// REDIS_URL or MONGODB_URI leaves off Redis or MongoDB.
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

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/flagenv"
	"github.com/pianorhythm/server/pkg/rpc"
	"github.com/pianorhythm/server/pkg/telemetry"
	"github.com/pianorhythm/server/services/monitor/monitorsvc"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "monitor:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) (err error) {
	fs := flagenv.New("monitor")
	addr := fs.String("addr", "PR_MONITOR_ADDR", "127.0.0.1:9106", "MonitorService gRPC address")
	httpAddr := fs.String("http-addr", "PR_MONITOR_HTTP", "127.0.0.1:9107", "HTTP address of /status and /metrics")
	targets := []struct {
		name string
		addr *string
	}{
		{"state", fs.String("state-addr", "PR_STATE_ADDR", "127.0.0.1:9101", "state service to check (empty: none)")},
		{"user", fs.String("user-addr", "PR_USER_ADDR", "127.0.0.1:9102", "user service to check (empty: none)")},
		{"room", fs.String("room-addr", "PR_ROOM_ADDR", "127.0.0.1:9103", "room service to check (empty: none)")},
		{"connection", fs.String("connection-addr", "PR_CONNECTION_ADDR", "127.0.0.1:9104", "connection service to check (empty: none)")},
		{"analytics", fs.String("analytics-addr", "PR_ANALYTICS_ADDR", "127.0.0.1:9105", "analytics service to check (empty: none)")},
	}
	redisURL := fs.Secret("redis-url", "REDIS_URL", "", "Redis URL to check (empty: none)")
	mongoURI := fs.Secret("mongodb-uri", "MONGODB_URI", "", "MongoDB URI to check (empty: none)")
	database := fs.String("mongodb-database", "PR_MONGODB_DATABASE", "pianorhythm", "MongoDB database to ping")
	interval := fs.Duration("check-interval", "PR_MONITOR_CHECK_INTERVAL", 10*time.Second, "time between rounds of checks")
	history := fs.Int("history", "PR_MONITOR_HISTORY", 360, "checks kept per component for the uptime")
	webhook := fs.Secret("webhook-url", "PR_MONITOR_WEBHOOK_URL", "", "URL POSTed a JSON alert when an error group spikes (empty: log only)")
	spike := fs.Int("spike-threshold", "PR_MONITOR_SPIKE_THRESHOLD", 10, "reports of one error group per minute above which it alerts")
	recentLogs := fs.Int("recent-logs", "PR_MONITOR_RECENT_LOGS", 500, "recent WARN and ERROR log entries kept")
	otlp := fs.String("otlp-endpoint", "OTEL_EXPORTER_OTLP_ENDPOINT", "", "OTLP gRPC endpoint (empty: no export)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	fs.Print(os.Stderr)

	cfg := monitorsvc.Config{
		CheckInterval: *interval, History: *history, WebhookURL: *webhook,
		SpikeThreshold: *spike, RecentLogs: *recentLogs,
	}
	if err := cfg.Validate(); err != nil {
		return err
	}

	tel, err := telemetry.Setup(ctx, telemetry.Config{ServiceName: "monitor", OTLPEndpoint: *otlp})
	if err != nil {
		return err
	}
	tel.Install()
	defer func() { err = errors.Join(err, tel.Shutdown(context.Background())) }()
	log := tel.Logger()

	deps := monitorsvc.Deps{Logger: log, Meter: tel.MeterProvider().Meter("monitor")}
	for _, t := range targets {
		if *t.addr == "" {
			continue
		}
		conn, err := rpc.Dial(rpc.ClientConfig{Target: *t.addr, Name: t.name, Logger: log})
		if err != nil {
			return fmt.Errorf("dial %s: %w", t.name, err)
		}
		defer conn.Close()
		deps.Targets = append(deps.Targets, monitorsvc.Target{Name: t.name, Conn: conn})
	}
	// Both clients connect lazily: the monitor must start, and report them
	// down, when Redis or MongoDB is.
	if *redisURL != "" {
		opts, err := redis.ParseURL(*redisURL)
		if err != nil {
			return fmt.Errorf("redis url: %w", err)
		}
		rdb := redis.NewClient(opts)
		defer rdb.Close()
		deps.Redis = rdb
	}
	if *mongoURI != "" {
		client, err := mongo.Connect(options.Client().ApplyURI(*mongoURI))
		if err != nil {
			return fmt.Errorf("mongodb: %w", err)
		}
		defer func() {
			cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err = errors.Join(err, client.Disconnect(cctx))
		}()
		deps.Mongo = client.Database(*database)
	}

	svc, err := monitorsvc.New(cfg, deps)
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = errors.Join(err, svc.Close(cctx))
	}()
	// From here on the monitor's own warnings reach its RecentLogs too.
	log = slog.New(svc.LogHandler(log.Handler()))

	gs, err := rpc.NewServer(rpc.ServerConfig{Name: "monitor", Addr: *addr, Logger: log, OnPanic: svc.ReportPanic})
	if err != nil {
		return err
	}
	svc.Register(gs.GRPC())
	gs.SetServing(pb.MonitorService_ServiceDesc.ServiceName, true)

	mux := http.NewServeMux()
	mux.Handle("GET /status", svc.StatusHandler())
	mux.Handle("GET /metrics", tel.MetricsHandler())
	lis, err := net.Listen("tcp", *httpAddr)
	if err != nil {
		gs.Close()
		return fmt.Errorf("listen on %s: %w", *httpAddr, err)
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	httpDone := make(chan error, 1)
	go func() { httpDone <- hs.Serve(lis) }()
	log.Info("monitor listening", "grpc", gs.Addr(), "http", lis.Addr().String())

	err = gs.Serve(ctx)
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = errors.Join(err, hs.Shutdown(sctx))
	if herr := <-httpDone; !errors.Is(herr, http.ErrServerClosed) {
		err = errors.Join(err, herr)
	}
	return err
}
