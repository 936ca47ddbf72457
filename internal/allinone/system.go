// Package allinone runs every service of the PianoRhythm server in one
// process: the stores (embedded or configured), each service on its own
// loopback gRPC port with real gRPC between them, and the edge's HTTP
// server. cmd/pianorhythm and the end-to-end tests use it.
package allinone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/rpc"
	"github.com/pianorhythm/server/pkg/store"
	"github.com/pianorhythm/server/pkg/telemetry"
	"github.com/pianorhythm/server/pkg/track"
	"github.com/pianorhythm/server/services/connection/connsvc"
	"github.com/pianorhythm/server/services/monitor/monitorsvc"
	"github.com/pianorhythm/server/services/room/roomsvc"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/grpc"
)

// service is one gRPC service of the system and what stops it.
type service struct {
	name  string
	srv   *rpc.Server
	conn  *grpc.ClientConn
	close func(context.Context) error
}

// System is a running all-in-one server. Close stops it.
type System struct {
	cfg      Config
	log      *slog.Logger
	redis    *store.Redis
	mongo    *store.Mongo
	verifier *auth.Verifier
	events   *track.Emitter
	// hooks report panics and warning logs to the monitor service once it
	// runs; until then they do nothing.
	hooks monitorsvc.Hooks
	// levels are each service's log level (and "system" for the rest),
	// changeable while running through the DiagnosticsService.
	levels map[string]*slog.LevelVar
	// edge is the connection service once built, for its gauges.
	edge     atomic.Pointer[connsvc.Service]
	services []*service
	byName   map[string]*service
	room     *roomsvc.Service
	httpLis  net.Listener
	http     *http.Server
	runCtx   context.Context
	cancel   context.CancelFunc
	// readyCtx bounds the health watchers; Close ends it first, so a
	// service being stopped is not reported as failing.
	readyCtx    context.Context
	readyCancel context.CancelFunc
	wg          sync.WaitGroup
	closed      sync.Once
	closeErr    error
}

// serviceNames are the six services in start order: each depends only on
// those before it.
var serviceNames = []string{"state", "user", "analytics", "room", "connection", "monitor"}

// Start opens the stores, starts every service and the edge, and returns
// once all of them listen. On error everything started is stopped again.
func Start(ctx context.Context, cfg Config) (_ *System, err error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &System{cfg: cfg, cancel: cancel, byName: map[string]*service{}, levels: map[string]*slog.LevelVar{}}
	for _, name := range append([]string{"system"}, serviceNames...) {
		s.levels[name] = new(slog.LevelVar)
		s.levels[name].Set(cfg.LogLevel)
	}
	s.log = slog.New(telemetry.NewLevelHandler(s.hooks.LogHandler(cfg.Logger.Handler()), s.levels["system"]))
	defer func() {
		if err != nil {
			_ = s.Close(context.Background())
		}
	}()

	if s.redis, err = store.OpenRedis(ctx, store.RedisConfig{URL: cfg.RedisURL, TracerProvider: cfg.TracerProvider}); err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	if s.mongo, err = store.OpenMongo(ctx, store.MongoConfig{URI: cfg.MongoURI, Database: cfg.Database, DataDir: cfg.DataDir, Logger: cfg.Logger, TracerProvider: cfg.TracerProvider}); err != nil {
		return nil, fmt.Errorf("mongodb: %w", err)
	}

	// Every service and the edge verify bearer tokens with one verifier:
	// the user service's JWKS (fetched over gRPC when first needed; the
	// user service is not built yet) and the one TokenConfig the user
	// service mints with.
	if s.verifier, err = auth.NewVerifier(auth.VerifierConfig{TokenConfig: cfg.Tokens, Fetch: func(ctx context.Context) (*pb.JwksResponse, error) {
		return pb.NewUserServiceClient(s.Conn("user")).Jwks(ctx, &pb.JwksRequest{})
	}}); err != nil {
		return nil, fmt.Errorf("token verifier: %w", err)
	}

	// Listen on every port before starting anything, so a taken port fails
	// fast with its name.
	addrs := map[string]string{
		"state": cfg.StateAddr, "user": cfg.UserAddr, "room": cfg.RoomAddr,
		"connection": cfg.ConnectionAddr, "analytics": cfg.AnalyticsAddr, "monitor": cfg.MonitorAddr,
	}
	// Every server refuses calls without the system's service credential
	// and verifies the tokens of the others, the state service included.
	for _, name := range serviceNames {
		srv, err := rpc.NewServer(rpc.ServerConfig{
			Name: name, Addr: addrs[name], Logger: s.logger(name), ServiceKeys: cfg.ServiceKeys, Tokens: s.verifier,
			OnPanic: s.hooks.ReportPanic, OnError: s.hooks.ReportFault,
			TracerProvider: cfg.TracerProvider, Propagator: cfg.Propagator,
			LogLevel: s.levels[name], Gauges: s.gauges(name),
		})
		if err != nil {
			return nil, fmt.Errorf("%s service: %w", name, err)
		}
		conn, err := rpc.Dial(rpc.ClientConfig{Target: srv.Addr(), Name: name, Logger: cfg.Logger,
			ServiceKeys: cfg.ServiceKeys, Caller: "allinone",
			TracerProvider: cfg.TracerProvider, Propagator: cfg.Propagator})
		if err != nil {
			srv.Close()
			return nil, fmt.Errorf("dial %s service: %w", name, err)
		}
		svc := &service{name: name, srv: srv, conn: conn}
		s.services = append(s.services, svc)
		s.byName[name] = svc
	}
	if s.httpLis, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		return nil, fmt.Errorf("edge http: %w", err)
	}

	s.runCtx = runCtx
	s.readyCtx, s.readyCancel = context.WithCancel(runCtx)
	handler, err := s.build()
	if err != nil {
		return nil, err
	}
	s.http = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.http.Serve(s.httpLis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("edge http server stopped", "err", err)
		}
	}()
	return s, nil
}

// URL is the address of the web client.
func (s *System) URL() string {
	host, port, err := net.SplitHostPort(s.httpLis.Addr().String())
	if err != nil || host == "" || host == "::" || host == "0.0.0.0" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}

// Addr returns the gRPC address of a service ("state", "user", ...).
func (s *System) Addr(name string) string {
	if svc, ok := s.byName[name]; ok {
		return svc.srv.Addr()
	}
	return ""
}

// Conn returns a client connection to a service, owned by the system.
func (s *System) Conn(name string) *grpc.ClientConn {
	if svc, ok := s.byName[name]; ok {
		return svc.conn
	}
	return nil
}

// logger is the system's logger for one component, filtered by the
// component's own level (services), or the system's (the rest).
func (s *System) logger(component string) *slog.Logger {
	lv, ok := s.levels[component]
	if !ok {
		return s.log.With("component", component)
	}
	inner := s.hooks.LogHandler(s.cfg.Logger.Handler())
	return slog.New(telemetry.NewLevelHandler(inner, lv)).With("component", component)
}

// gauges are a service's own figures for its DiagnosticsService: the
// edge's open WebSocket connections.
func (s *System) gauges(name string) func() map[string]float64 {
	if name != "connection" {
		return nil
	}
	return func() map[string]float64 {
		edge := s.edge.Load()
		if edge == nil {
			return nil
		}
		return map[string]float64{"websocket_connections": float64(len(edge.Connections("")))}
	}
}

// LogLevel is a service's current log level ("system" for the rest).
func (s *System) LogLevel(name string) slog.Level {
	if lv, ok := s.levels[name]; ok {
		return lv.Level()
	}
	return s.cfg.LogLevel
}

// meter is the meter of one component's instruments.
func (s *System) meter(component string) metric.Meter {
	return s.cfg.MeterProvider.Meter("pianorhythm/" + component)
}

// SetRoomHook installs a function run at the start of every message of
// the room service's actors (see roomsvc.Service.SetHook): a seam for
// fault tests.
func (s *System) SetRoomHook(h func(roomID string, msg any)) { s.room.SetHook(h) }

// Redis is the system's Redis store.
func (s *System) Redis() *store.Redis { return s.redis }

// Close stops the edge, then the services in reverse start order, then the
// stores, and waits for every goroutine the system started.
func (s *System) Close(ctx context.Context) error {
	s.closed.Do(func() {
		if s.readyCancel != nil {
			s.readyCancel()
		}
		var errs []error
		if s.http != nil {
			if err := s.http.Shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("edge http: %w", err))
			}
		} else if s.httpLis != nil {
			s.httpLis.Close()
		}
		for i := len(s.services) - 1; i >= 0; i-- {
			svc := s.services[i]
			if svc.close != nil {
				if err := svc.close(ctx); err != nil {
					errs = append(errs, fmt.Errorf("%s service: %w", svc.name, err))
				}
			}
		}
		if s.events != nil {
			if err := s.events.Close(ctx); err != nil {
				errs = append(errs, fmt.Errorf("analytics events: %w", err))
			}
		}
		if s.cancel != nil {
			s.cancel() // stops every gRPC server (graceful, with a deadline)
		}
		for _, svc := range s.services {
			svc.srv.Close()
			svc.conn.Close()
		}
		s.wg.Wait()
		if s.mongo != nil {
			if err := s.mongo.Close(ctx); err != nil {
				errs = append(errs, fmt.Errorf("mongodb: %w", err))
			}
		}
		if s.redis != nil {
			if err := s.redis.Close(); err != nil {
				errs = append(errs, fmt.Errorf("redis: %w", err))
			}
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}
