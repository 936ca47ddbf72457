package connsvc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"github.com/pianorhythm/server/api"
	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/track"
	"github.com/pianorhythm/server/services/connection/internal/clientip"
	"github.com/pianorhythm/server/services/connection/internal/edge"
	"github.com/pianorhythm/server/services/connection/internal/gateway"
	"github.com/pianorhythm/server/services/connection/internal/ghost"
	"github.com/pianorhythm/server/services/connection/internal/web"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
)

// Gateway holds the client connections the REST gateway forwards to, one
// per service; nil ones are left out of the REST API and of /readyz.
type Gateway struct {
	User, Room, State, Analytics, Monitor, Connection *grpc.ClientConn
}

// Deps are the edge's collaborators. Redis, Room, User and State are
// required.
type Deps struct {
	// Redis carries notes and room and user events between instances.
	Redis redis.UniversalClient
	// Room, User and State are clients built by the caller (rpc.Dial, with
	// breakers and deadlines).
	Room  pb.RoomServiceClient
	User  pb.UserServiceClient
	State pb.StateServiceClient
	// Verifier checks access tokens. Nil means asking the user service
	// (VerifyToken) on every connect.
	Verifier auth.TokenVerifier
	// Gateway are the services behind /v1/... and /readyz.
	Gateway Gateway
	// Web serves the web client at /. Nil means the embedded web client.
	Web http.Handler
	// Metrics serves /metrics. Nil means 404.
	Metrics http.Handler
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// Meter records the edge's and its actors' metrics; nil means a no-op
	// meter.
	Meter metric.Meter
	// OnPanic reports panics caught in the edge's actors, and OnGiveUp the
	// actors its root supervisor gave up on (the monitor's error tracker);
	// nil means they are only logged.
	OnPanic  func(kind string, value any, stack []byte)
	OnGiveUp func(actor.GaveUp)
	// TracerProvider starts the edge's spans; nil means the otel global
	// provider.
	TracerProvider trace.TracerProvider
	// Events receives the edge's analytics events (NOTES counted per
	// connection every second, CONNECTION_OPENED and CONNECTION_CLOSED);
	// a *track.Emitter in production, closed by the caller after Close.
	// Nil drops them.
	Events track.Sink
}

// Service is a running edge instance.
type Service struct {
	cfg     Config
	deps    Deps
	sys     *actor.System
	edge    *edge.Server
	tracker *ghost.Tracker
	handler http.Handler

	once sync.Once
	err  error
}

// New validates cfg, starts the service's actor system with the edge's
// actors (ConnectionManager, connection actors, RoomFanouts) and the
// GhostTracker, the instance heartbeat, and builds the HTTP handler.
func New(cfg Config, deps Deps) (*Service, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("connection config: %w", err)
	}
	if deps.Redis == nil || deps.Room == nil || deps.User == nil || deps.State == nil {
		return nil, errors.New("connection deps: Redis, Room, User and State are required")
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	deps.Logger = deps.Logger.With("service", "connection", "instance", cfg.InstanceID)
	if deps.Verifier == nil {
		deps.Verifier = remoteVerifier{user: deps.User}
	}
	s := &Service{cfg: cfg, deps: deps}
	clientIP, err := clientip.Parse(cfg.TrustedProxies)
	if err != nil { // Validate has said so already
		return nil, fmt.Errorf("connection config: %w", err)
	}
	gw, err := gateway.NewMux(context.Background(), s.backends())
	if err != nil {
		return nil, err
	}
	s.sys = actor.NewSystem(actor.Config{Meter: deps.Meter, Logger: deps.Logger, OnPanic: deps.OnPanic, OnGiveUp: deps.OnGiveUp})
	s.edge, err = edge.New(edge.Config{
		InstanceID: cfg.InstanceID, KeyPrefix: cfg.KeyPrefix,
		PingInterval: cfg.PingInterval, IdleTimeout: cfg.IdleTimeout, SlowTimeout: cfg.SlowTimeout,
		QuotaRefill: cfg.QuotaRefill, CallTimeout: cfg.CallTimeout,
		MaxArriving: cfg.MaxArriving, ArrivalWait: cfg.ArrivalWait,
		SendQueueBytes: cfg.SendQueueBytes, MaxFrameBytes: cfg.MaxFrameBytes,
		JoinsPerSecond: cfg.JoinsPerSecond, OriginPatterns: cfg.OriginPatterns,
		ClientIP: clientIP, HeartbeatTTL: cfg.HeartbeatTTL, RedisCheckInterval: cfg.RedisCheckInterval,
		CursorsPerSecond: cfg.CursorsPerSecond, CursorBurst: cfg.CursorBurst, RoomListInterval: cfg.RoomListInterval,
		MPPMOTD: cfg.MPPMOTD,
	}, edge.Deps{System: s.sys, Redis: deps.Redis, Room: deps.Room, User: deps.User, State: deps.State,
		Verifier: deps.Verifier, Logger: deps.Logger, Meter: deps.Meter, TracerProvider: deps.TracerProvider,
		Events: deps.Events})
	if err != nil {
		s.sys.Shutdown(context.Background())
		return nil, fmt.Errorf("start edge: %w", err)
	}
	s.tracker, err = ghost.Start(ghost.Config{Self: cfg.InstanceID, Interval: cfg.GhostInterval},
		ghost.Deps{System: s.sys, State: deps.State, Room: deps.Room, User: deps.User, Logger: deps.Logger})
	if err != nil {
		s.edge.Close(context.Background())
		s.sys.Shutdown(context.Background())
		return nil, fmt.Errorf("start ghost tracker: %w", err)
	}
	s.handler = s.routes(clientIP.Handler(gw))
	return s, nil
}

// InstanceID is the instance's id (generated when the config left it
// empty).
func (s *Service) InstanceID() string { return s.cfg.InstanceID }

// Handler is the edge's HTTP handler: /ws, /mpp, /v1/..., /.well-known/jwks.json,
// /openapi.json, /metrics, /healthz, /readyz and the web client at /.
func (s *Service) Handler() http.Handler { return s.handler }

func (s *Service) backends() []gateway.Backend {
	g := s.deps.Gateway
	return []gateway.Backend{
		{Name: "user", Conn: g.User, Register: pb.RegisterUserServiceHandler},
		{Name: "room", Conn: g.Room, Register: pb.RegisterRoomServiceHandler},
		{Name: "state", Conn: g.State, Register: pb.RegisterStateServiceHandler},
		{Name: "analytics", Conn: g.Analytics, Register: pb.RegisterAnalyticsServiceHandler},
		{Name: "monitor", Conn: g.Monitor, Register: pb.RegisterMonitorServiceHandler},
		{Name: "connection", Conn: g.Connection, Register: pb.RegisterConnectionServiceHandler},
	}
}

func (s *Service) routes(gw http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/ws", s.edge)
	mux.HandleFunc("/mpp", s.edge.ServeMPP)
	mux.Handle("/v1/", gw)
	mux.Handle("/.well-known/", gw)
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(api.OpenAPI)
	})
	if s.deps.Metrics != nil {
		mux.Handle("/metrics", s.deps.Metrics)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok\n"))
	})
	checks := []gateway.Check{
		{Name: "edge", Check: s.Ready},
		{Name: "redis", Check: func(ctx context.Context) error { return s.deps.Redis.Ping(ctx).Err() }},
	}
	for _, b := range s.backends() {
		if b.Conn != nil {
			checks = append(checks, gateway.Check{Name: b.Name, Check: gateway.HealthCheck(b.Conn), Optional: optional[b.Name]})
		}
	}
	mux.Handle("GET /readyz", gateway.Ready(checks, s.cfg.ReadyTimeout))
	client := s.deps.Web
	if client == nil {
		client = web.Handler()
	}
	mux.Handle("/", client)
	return mux
}

// Close closes every socket with 4000, stops the heartbeat, the tracker
// and the edge's actors, and waits for them (until ctx ends). Later calls
// return the first call's result.
func (s *Service) Close(ctx context.Context) error {
	s.once.Do(func() {
		err := s.edge.Close(ctx)
		err = errors.Join(err, s.tracker.Close(ctx))
		if serr := s.sys.Shutdown(ctx); serr != nil {
			err = errors.Join(err, fmt.Errorf("shut down actors: %w", serr))
		}
		s.err = err
	})
	return s.err
}

// Connections lists this instance's connections, optionally only those in
// roomID (as the admin RPC does); nil if the ConnectionManager does not
// answer in time.
func (s *Service) Connections(roomID string) []*pb.Connection {
	out, _ := s.edge.Connections(context.Background(), roomID, "")
	return out
}

// Sweep runs one GhostTracker round now (discover also looks for instances
// never seen alive); for tests and tools.
func (s *Service) Sweep(ctx context.Context, discover bool) error {
	return s.tracker.Sweep(ctx, discover)
}
