// Command monitor runs the monitor service (StatusPageMonitor, ErrorTracker,
// LogSink) alone: gRPC on -listen, and /status and /metrics on -http-addr.
// Every flag has an environment variable (-help lists them); the
// configuration is printed at start with secrets masked. The services it
// checks are the same PR_<NAME>_ADDR variables the other programs use.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/boot"
	"github.com/pianorhythm/server/services/monitor/monitorsvc"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func main() { boot.Main("monitor", "127.0.0.1:9106", run) }

func run(ctx context.Context, p *boot.Program) error {
	fs := p.Flags
	httpAddr := fs.String("http-addr", "PR_MONITOR_HTTP", "127.0.0.1:9107", "HTTP address of /status and /metrics")
	targets := []struct {
		name string
		addr *string
	}{
		{"state", p.Peer("state", "127.0.0.1:9101")},
		{"user", p.Peer("user", "127.0.0.1:9102")},
		{"room", p.Peer("room", "127.0.0.1:9103")},
		{"connection", p.Peer("connection", "127.0.0.1:9104")},
		{"analytics", p.Peer("analytics", "127.0.0.1:9105")},
	}
	redisURL := fs.Secret("redis-url", "REDIS_URL", "", "Redis URL to check (empty: none)")
	mongoURI := fs.Secret("mongodb-uri", "MONGODB_URI", "", "MongoDB URI to check (empty: none)")
	database := fs.String("mongodb-database", "PR_MONGODB_DATABASE", "pianorhythm", "MongoDB database to ping")
	interval := fs.Duration("check-interval", "PR_MONITOR_CHECK_INTERVAL", 10*time.Second, "time between rounds of checks")
	history := fs.Int("history", "PR_MONITOR_HISTORY", 360, "checks kept per component for the uptime")
	webhook := fs.Secret("webhook-url", "PR_MONITOR_WEBHOOK_URL", "", "URL POSTed a JSON alert when an error group spikes (empty: log only)")
	spike := fs.Int("spike-threshold", "PR_MONITOR_SPIKE_THRESHOLD", 10, "reports of one error group per minute above which it alerts")
	recentLogs := fs.Int("recent-logs", "PR_MONITOR_RECENT_LOGS", 500, "recent WARN and ERROR log entries kept")
	thresholds := fs.String("thresholds", "PR_MONITOR_THRESHOLDS", "", "degraded past these, per component: default:latency=250ms,cpu=85,memory=2GiB,goroutines=10000,connections=500,errors=10;state:latency=100ms (empty: the defaults)")
	if err := p.Parse(ctx); err != nil {
		return err
	}
	th, err := monitorsvc.ParseThresholds(*thresholds)
	if err != nil {
		return fmt.Errorf("PR_MONITOR_THRESHOLDS: %w", err)
	}
	cfg := monitorsvc.Config{
		CheckInterval: *interval, History: *history, WebhookURL: *webhook,
		SpikeThreshold: *spike, RecentLogs: *recentLogs, Thresholds: th,
	}
	if err := cfg.Validate(); err != nil {
		return err
	}

	deps := monitorsvc.Deps{Logger: p.Log, Meter: p.Meter(), LogLevel: p.Telemetry.Level()}
	for _, t := range targets {
		if *t.addr == "" {
			continue
		}
		conn, err := p.Dial(t.name, *t.addr)
		if err != nil {
			return err
		}
		deps.Targets = append(deps.Targets, monitorsvc.Target{Name: t.name, Conn: conn})
	}
	// Both clients connect lazily: the monitor must start, and report them
	// down, when Redis or MongoDB is.
	if *redisURL != "" {
		opts, err := redis.ParseURL(*redisURL)
		if err != nil {
			return fmt.Errorf("REDIS_URL: %w", err)
		}
		rdb := redis.NewClient(opts)
		p.Defer(func(context.Context) error { return rdb.Close() })
		deps.Redis = rdb
	}
	if *mongoURI != "" {
		client, err := mongo.Connect(options.Client().ApplyURI(*mongoURI))
		if err != nil {
			return fmt.Errorf("MONGODB_URI: %w", err)
		}
		p.Defer(client.Disconnect)
		deps.Mongo = client.Database(*database)
	}

	svc, err := monitorsvc.New(cfg, deps)
	if err != nil {
		return err
	}
	p.Defer(svc.Close)
	// From here on the monitor's own warnings and panics reach it directly.
	p.Log = slog.New(svc.LogHandler(p.Log.Handler()))
	p.ReportTo(svc.ReportPanic, svc.ReportFault)

	mux := http.NewServeMux()
	mux.Handle("GET /status", svc.StatusHandler())
	mux.Handle("GET /metrics", p.Telemetry.MetricsHandler())
	if err := p.ServeHTTP(*httpAddr, mux); err != nil {
		return err
	}
	p.ReadyWhen(svc.Ready)
	return p.Serve(ctx, pb.MonitorService_ServiceDesc.ServiceName, svc.Register)
}
