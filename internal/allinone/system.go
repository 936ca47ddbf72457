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
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/rpc"
	"github.com/pianorhythm/server/pkg/store"
	"github.com/pianorhythm/server/pkg/track"
	"github.com/pianorhythm/server/services/monitor/monitorsvc"
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
	hooks    monitorsvc.Hooks
	services []*service
	byName   map[string]*service
	httpLis  net.Listener
	http     *http.Server
	runCtx   context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	closed   sync.Once
	closeErr error
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
	s := &System{cfg: cfg, cancel: cancel, byName: map[string]*service{}}
	s.log = slog.New(s.hooks.LogHandler(cfg.Logger.Handler()))
	defer func() {
		if err != nil {
			_ = s.Close(context.Background())
		}
	}()

	if s.redis, err = store.OpenRedis(ctx, store.RedisConfig{URL: cfg.RedisURL}); err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	if s.mongo, err = store.OpenMongo(ctx, store.MongoConfig{URI: cfg.MongoURI, Database: cfg.Database, DataDir: cfg.DataDir, Logger: cfg.Logger}); err != nil {
		return nil, fmt.Errorf("mongodb: %w", err)
	}

	// Every service verifies bearer tokens against the user service's JWKS,
	// fetched over gRPC when first needed (the user service is not built yet).
	if s.verifier, err = auth.NewVerifier(auth.VerifierConfig{Fetch: func(ctx context.Context) (*pb.JwksResponse, error) {
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
	for _, name := range serviceNames {
		var interceptors []grpc.UnaryServerInterceptor
		if name != "state" { // the state service trusts its callers: it is never exposed
			interceptors = append(interceptors, auth.UnaryServerInterceptor(s.verifier))
		}
		srv, err := rpc.NewServer(rpc.ServerConfig{
			Name: name, Addr: addrs[name], Logger: s.logger(name), UnaryInterceptors: interceptors,
			OnPanic: s.hooks.ReportPanic, OnError: s.hooks.ReportFault,
		})
		if err != nil {
			return nil, fmt.Errorf("%s service: %w", name, err)
		}
		conn, err := rpc.Dial(rpc.ClientConfig{Target: srv.Addr(), Name: name, Logger: cfg.Logger})
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

// logger is the system's logger for one component.
func (s *System) logger(component string) *slog.Logger {
	return s.log.With("component", component)
}

// meter is the meter of one component's instruments.
func (s *System) meter(component string) metric.Meter {
	return s.cfg.MeterProvider.Meter("pianorhythm/" + component)
}

// Redis is the system's Redis store.
func (s *System) Redis() *store.Redis { return s.redis }

// Close stops the edge, then the services in reverse start order, then the
// stores, and waits for every goroutine the system started.
func (s *System) Close(ctx context.Context) error {
	s.closed.Do(func() {
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
