package rpc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
)

// minPingInterval is the most often the server lets a client ping. The
// clients of Dial ping every 10s, also with no call in flight; gRPC's
// default policy (at most every 5 minutes, only during calls) would answer
// them with GOAWAY "too_many_pings" and drop the connection.
const minPingInterval = 5 * time.Second

// ServerConfig configures NewServer. Every zero value is usable.
type ServerConfig struct {
	// Name is the service name used in logs and error reports
	// ("state", "room", ...). Zero means "grpc".
	Name string
	// Addr is the listen address. Zero means "127.0.0.1:0" (a free
	// loopback port, see Server.Addr).
	Addr string
	// Logger receives request logs and panics. Nil means slog.Default().
	// Use the logger from telemetry.Setup so lines carry trace_id.
	Logger *slog.Logger
	// ServiceKeys check the service credential every call must carry (see
	// auth.ServiceKeys): a call without a valid one is refused with
	// Unauthenticated before any handler runs; only health and reflection
	// are open. Required: a server that trusted every caller could not
	// trust identity metadata.
	ServiceKeys auth.ServiceKeys
	// Tokens verifies the bearer tokens of users (forwarded by the REST
	// gateway): the built-in identity interceptor puts the caller's
	// identity in the context from a token, or from the identity metadata
	// of the authenticated peer. Nil means bearer tokens are refused
	// (Unauthenticated) and only peers' identity metadata counts.
	Tokens auth.TokenVerifier
	// UnaryInterceptors run after the built-in ones (logging, service
	// credentials, recovery, identity), in order.
	UnaryInterceptors []grpc.UnaryServerInterceptor
	// StreamInterceptors run after the built-in ones, in order.
	StreamInterceptors []grpc.StreamServerInterceptor
	// OnPanic, when set, is called after a handler panicked (the caller got
	// codes.Internal): the error reporting hook. It must not block long.
	OnPanic func(service, method string, value any, stack []byte)
	// OnError, when set, is called when a handler returns a server fault
	// (Internal, Unknown or DataLoss; not a refusal, and not Unavailable or
	// DeadlineExceeded, which name a dependency): the error tracker groups
	// them. A panic is reported to OnPanic only. It must not block long.
	OnError func(service, method string, err error)
	// StopTimeout bounds the graceful stop in Serve before in-flight calls
	// are cut. Zero means 5s.
	StopTimeout time.Duration
	// TracerProvider, MeterProvider and Propagator feed the otelgrpc stats
	// handler. Nil means the otel globals (set by telemetry.Install).
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
	Propagator     propagation.TextMapPropagator
	// Options are extra grpc.ServerOptions appended last (message sizes,
	// keepalive, ...).
	Options []grpc.ServerOption
	// LogLevel is the level of Logger, which the DiagnosticsService's
	// SetLogLevel changes at once (the monitor's admin API calls it). Nil
	// means the level cannot be changed.
	LogLevel *slog.LevelVar
	// Gauges adds service-specific figures to the DiagnosticsService's
	// answer ("websocket_connections"); nil means none. It must be quick.
	Gauges func() map[string]float64
}

func (c ServerConfig) withDefaults() ServerConfig {
	if c.Name == "" {
		c.Name = "grpc"
	}
	if c.Addr == "" {
		c.Addr = "127.0.0.1:0"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.StopTimeout == 0 {
		c.StopTimeout = 5 * time.Second
	}
	return c
}

// Validate reports a configuration NewServer cannot use.
func (c ServerConfig) Validate() error {
	if c.StopTimeout < 0 {
		return fmt.Errorf("stop timeout %v is negative", c.StopTimeout)
	}
	if c.ServiceKeys.IsZero() {
		return errors.New("no service keys: every server authenticates its callers")
	}
	return nil
}

// Server is a gRPC server that already listens, with health, reflection,
// the DiagnosticsService (process figures and the log level, for the
// monitor), OpenTelemetry, panic recovery and request logging installed. Register
// services on GRPC() before calling Serve. Its methods are safe for
// concurrent use.
type Server struct {
	cfg    ServerConfig
	lis    net.Listener
	grpc   *grpc.Server
	health *health.Server

	serveOnce sync.Once
	closeOnce sync.Once
}

// NewServer listens on cfg.Addr at once (so a taken port fails here, and
// Addr is known before Serve) and builds the server.
func NewServer(cfg ServerConfig) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("rpc server config: %w", err)
	}
	lis, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("%s: listen on %s: %w", cfg.Name, cfg.Addr, err)
	}

	var otelOpts []otelgrpc.Option
	if cfg.TracerProvider != nil {
		otelOpts = append(otelOpts, otelgrpc.WithTracerProvider(cfg.TracerProvider))
	}
	if cfg.MeterProvider != nil {
		otelOpts = append(otelOpts, otelgrpc.WithMeterProvider(cfg.MeterProvider))
	}
	if cfg.Propagator != nil {
		otelOpts = append(otelOpts, otelgrpc.WithPropagators(cfg.Propagator))
	}

	// Logging is outermost so it records the code recovery turned a panic
	// into, and the refusals of callers without a credential; the
	// credential check comes before anything reads the request's metadata.
	// Identity and user interceptors run inside recovery so their panics
	// are caught too.
	unary := append([]grpc.UnaryServerInterceptor{
		loggingUnary(cfg.Logger),
		peerUnary(cfg.ServiceKeys),
		recoveryUnary(cfg.Name, cfg.Logger, cfg.OnPanic),
		faultsUnary(cfg.Name, cfg.OnError),
		identityUnary(cfg.Tokens),
	}, cfg.UnaryInterceptors...)
	stream := append([]grpc.StreamServerInterceptor{
		loggingStream(cfg.Logger),
		peerStream(cfg.ServiceKeys),
		recoveryStream(cfg.Name, cfg.Logger, cfg.OnPanic),
	}, cfg.StreamInterceptors...)

	conns := &connCounter{}
	opts := append([]grpc.ServerOption{
		// Calls run on a few long-lived workers instead of a new goroutine
		// each: a fresh goroutine grows its stack through the interceptors,
		// the OTel handler and the handler on every call (5% of a crowd's
		// arrival was that copying); past them, calls get a goroutine each.
		grpc.NumStreamWorkers(streamWorkers()),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: minPingInterval, PermitWithoutStream: true}),
		grpc.StatsHandler(otelgrpc.NewServerHandler(otelOpts...)),
		grpc.StatsHandler(conns),
		grpc.ChainUnaryInterceptor(unary...),
		grpc.ChainStreamInterceptor(stream...),
	}, cfg.Options...)

	gs := grpc.NewServer(opts...)
	hs := health.NewServer()
	healthpb.RegisterHealthServer(gs, hs)
	pb.RegisterDiagnosticsServiceServer(gs, &diagnostics{
		name: cfg.Name, level: cfg.LogLevel, gauges: cfg.Gauges, conns: conns, started: time.Now(),
	})
	reflection.Register(gs)

	return &Server{cfg: cfg, lis: lis, grpc: gs, health: hs}, nil
}

// GRPC returns the server to register services on.
func (s *Server) GRPC() *grpc.Server { return s.grpc }

// Health returns the health service; most callers only need SetServing.
func (s *Server) Health() *health.Server { return s.health }

// Addr returns the address the server listens on, with the real port when
// the configured one was 0.
func (s *Server) Addr() string { return s.lis.Addr().String() }

// SetServing sets the health status of service (a full gRPC service name
// such as "pianorhythm.v1.StateService") and of the whole server ("").
func (s *Server) SetServing(service string, serving bool) {
	st := healthpb.HealthCheckResponse_NOT_SERVING
	if serving {
		st = healthpb.HealthCheckResponse_SERVING
	}
	if service != "" {
		s.health.SetServingStatus(service, st)
	}
	s.health.SetServingStatus("", st)
}

// Serve serves until ctx is done, then reports NOT_SERVING, stops
// gracefully within StopTimeout and cuts the remaining calls after that. It
// returns nil on a clean stop and may be called once. Handlers that ignore
// their context's cancellation may still be running when it returns.
func (s *Server) Serve(ctx context.Context) error {
	err := errors.New("rpc: Serve called twice")
	s.serveOnce.Do(func() { err = s.serve(ctx) })
	return err
}

func (s *Server) serve(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- s.grpc.Serve(s.lis) }()

	select {
	case err := <-done:
		// Serve returns early only on a listener failure or a Close.
		if err == nil || errors.Is(err, grpc.ErrServerStopped) {
			return nil
		}
		return fmt.Errorf("%s: serve on %s: %w", s.cfg.Name, s.Addr(), err)
	case <-ctx.Done():
	}

	s.stop()
	<-done
	return nil
}

// stop drains in-flight calls for at most StopTimeout, then cuts them.
func (s *Server) stop() {
	s.closeOnce.Do(func() {
		s.health.Shutdown()
		stopped := make(chan struct{})
		go func() {
			s.grpc.GracefulStop()
			close(stopped)
		}()
		t := time.NewTimer(s.cfg.StopTimeout)
		defer t.Stop()
		select {
		case <-stopped:
		case <-t.C:
			s.cfg.Logger.Warn("graceful stop timed out, cutting calls",
				"service", s.cfg.Name, "timeout", s.cfg.StopTimeout)
			// Stop closes the connections and cancels the calls' contexts
			// but does not wait for handlers; GracefulStop would, so its
			// goroutine ends only when the last stuck handler returns.
			s.grpc.Stop()
		}
		// Serve may never have run; the listener is ours to close then.
		_ = s.lis.Close()
	})
}

// Close stops the server at once without waiting for calls; use it when
// Serve was never called (a later start step failed) or to cut a running
// server. Serve then returns nil.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.health.Shutdown()
		s.grpc.Stop()
		_ = s.lis.Close()
	})
}

// streamWorkers is how many goroutines serve calls: enough that a handler
// waiting on its actor or store does not queue the next call behind it.
func streamWorkers() uint32 { return uint32(4 * runtime.GOMAXPROCS(0)) }
