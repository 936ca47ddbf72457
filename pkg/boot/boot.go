// Package boot is the common start of every service program
// (services/<name>/cmd/<name>): flags with environment defaults, telemetry,
// stores, clients of the other services, panic reports to the monitor, and
// serving gRPC until SIGINT/SIGTERM, then closing everything in reverse
// order. Each program only declares its own settings and builds its
// service, so all six read the same way.
package boot

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/flagenv"
	"github.com/pianorhythm/server/pkg/rpc"
	"github.com/pianorhythm/server/pkg/store"
	"github.com/pianorhythm/server/pkg/telemetry"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// closeTimeout bounds each closer at shutdown.
const closeTimeout = 10 * time.Second

// Main runs a service program: run gets a Program named name (listening by
// default on defaultListen) and a context that SIGINT and SIGTERM cancel;
// whatever run registered with Defer is closed when it returns. Main exits
// with status 1 and one line "<name>: <error>" when it fails: it is the only
// place a service program exits.
func Main(name, defaultListen string, run func(ctx context.Context, p *Program) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	p := New(name, defaultListen, os.Args[1:])
	err := run(ctx, p)
	err = errors.Join(err, p.Close())
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}

// Program is one service program being started. Declare settings on Flags
// (and peers with Peer) before Parse; after Parse, Log and Telemetry are
// ready. It is not safe for concurrent use.
type Program struct {
	Name  string
	Flags *flagenv.Set
	// Log and Telemetry are set by Parse.
	Log       *slog.Logger
	Telemetry *telemetry.Telemetry

	args                                             []string
	listen, metricsAddr, otlp, logLevel, monitorAddr *string
	closers                                          []func(context.Context) error
	monitor                                          pb.MonitorServiceClient
	panics                                           func(service, where string, value any, stack []byte)
	faults                                           func(service, method string, err error)
}

// New declares the settings every program has: -listen (PR_LISTEN_ADDR,
// default defaultListen), -metrics-addr, -otlp-endpoint, -log-level and
// -monitor-addr (where panics are reported); args are parsed by Parse.
func New(name, defaultListen string, args []string) *Program {
	fs := flagenv.New(name)
	return &Program{
		Name:        name,
		Flags:       fs,
		args:        args,
		listen:      fs.String("listen", "PR_LISTEN_ADDR", defaultListen, "gRPC address this service listens on"),
		metricsAddr: fs.String("metrics-addr", "PR_METRICS_ADDR", "", "HTTP address serving /metrics (empty: none)"),
		otlp:        fs.String("otlp-endpoint", "OTEL_EXPORTER_OTLP_ENDPOINT", "", "OTLP gRPC endpoint for traces (empty: no export)"),
		logLevel:    fs.String("log-level", "PR_LOG_LEVEL", "info", "debug, info, warn or error"),
		monitorAddr: fs.String("monitor-addr", "PR_MONITOR_ADDR", "", "monitor service that panics are reported to (empty: logs only)"),
	}
}

// Peer declares the address of another service: -<name>-addr, from
// PR_<NAME>_ADDR, the same variables the all-in-one program uses.
func (p *Program) Peer(name, def string) *string {
	return p.Flags.String(name+"-addr", "PR_"+upper(name)+"_ADDR", def, name+" service gRPC address")
}

// Parse parses the arguments, prints the configuration (secrets masked)
// and sets up telemetry.
func (p *Program) Parse(ctx context.Context) error {
	if err := p.Flags.Parse(p.args); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*p.logLevel)); err != nil {
		return fmt.Errorf("PR_LOG_LEVEL=%q: want debug, info, warn or error", *p.logLevel)
	}
	fmt.Fprintf(os.Stderr, "%s configuration:\n", p.Name)
	p.Flags.Print(os.Stderr)
	tel, err := telemetry.Setup(ctx, telemetry.Config{ServiceName: p.Name, OTLPEndpoint: *p.otlp, LogLevel: level})
	if err != nil {
		return fmt.Errorf("telemetry: %w", err)
	}
	tel.Install()
	p.Telemetry, p.Log = tel, tel.Logger()
	p.Defer(tel.Shutdown)
	if *p.monitorAddr != "" {
		conn, err := p.Dial("monitor", *p.monitorAddr)
		if err != nil {
			return err
		}
		p.monitor = pb.NewMonitorServiceClient(conn)
	}
	return nil
}

// ListenAddr is the gRPC address the program listens on (-listen).
func (p *Program) ListenAddr() string { return *p.listen }

// Meter is the program's meter.
func (p *Program) Meter() metric.Meter {
	return p.Telemetry.MeterProvider().Meter("pianorhythm/" + p.Name)
}

// Defer registers fn to run at shutdown; closers run in reverse order, each
// with its own timeout.
func (p *Program) Defer(fn func(context.Context) error) { p.closers = append(p.closers, fn) }

// Redis opens Redis (embedded when url is empty) until shutdown.
func (p *Program) Redis(ctx context.Context, url string) (*store.Redis, error) {
	r, err := store.OpenRedis(ctx, store.RedisConfig{URL: url})
	if err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	p.Defer(func(context.Context) error { return r.Close() })
	return r, nil
}

// Mongo opens MongoDB (embedded FerretDB when cfg.URI is empty) until
// shutdown.
func (p *Program) Mongo(ctx context.Context, cfg store.MongoConfig) (*store.Mongo, error) {
	cfg.Logger = p.Log
	m, err := store.OpenMongo(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("mongodb: %w", err)
	}
	p.Defer(m.Close)
	return m, nil
}

// Dial connects to another service (with deadlines, a circuit breaker and
// retries of idempotent calls) until shutdown.
func (p *Program) Dial(name, target string) (*grpc.ClientConn, error) {
	conn, err := rpc.Dial(rpc.ClientConfig{Target: target, Name: name, Logger: p.Log})
	if err != nil {
		return nil, fmt.Errorf("dial %s service at %s: %w", name, target, err)
	}
	p.Defer(func(context.Context) error { return conn.Close() })
	return conn, nil
}

// Verifier verifies access tokens against the user service's JWKS.
func (p *Program) Verifier(user *grpc.ClientConn) (*auth.Verifier, error) {
	client := pb.NewUserServiceClient(user)
	return auth.NewVerifier(auth.VerifierConfig{Fetch: func(ctx context.Context) (*pb.JwksResponse, error) {
		return client.Jwks(ctx, &pb.JwksRequest{})
	}})
}

// ReportTo makes ReportPanic and ReportFault call these instead of the
// monitor service (the monitor program reports its own in-process).
func (p *Program) ReportTo(panics func(service, where string, value any, stack []byte), faults func(service, method string, err error)) {
	p.panics, p.faults = panics, faults
}

// ReportPanic sends a panic to the monitor's error tracker (if one is
// configured); it has the signature of rpc.ServerConfig.OnPanic.
func (p *Program) ReportPanic(service, where string, value any, stack []byte) {
	if p.panics != nil {
		p.panics(service, where, value, stack)
		return
	}
	p.report(&pb.ErrorReport{Service: service, Message: fmt.Sprintf("panic in %s: %v", where, value), Stack: string(stack)})
}

// report sends r to the monitor as this program's internal identity.
func (p *Program) report(r *pb.ErrorReport) {
	if p.monitor == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	r.At = timestamppb.Now()
	if _, err := p.monitor.ReportError(auth.OutgoingContext(ctx, auth.System(p.Name)), r); err != nil {
		p.Log.Warn("report to the monitor", "err", err)
	}
}

// ReportFault sends a server fault a handler returned to the monitor's
// error tracker (if one is configured); it fits rpc.ServerConfig.OnError.
func (p *Program) ReportFault(service, method string, err error) {
	if p.faults != nil {
		p.faults(service, method, err)
		return
	}
	p.report(&pb.ErrorReport{Service: service, Message: method + ": " + status.Convert(err).Message(),
		Attributes: map[string]string{"method": method, "code": status.Code(err).String()}})
}

// ActorPanics is ReportPanic for actor.Config.OnPanic.
func (p *Program) ActorPanics(kind string, value any, stack []byte) {
	p.ReportPanic(p.Name, "actor "+kind, value, stack)
}

// Serve listens on -listen with the interceptors given, lets register add
// the service, and serves until ctx is done (and /metrics when
// -metrics-addr is set).
func (p *Program) Serve(ctx context.Context, service string, register func(*grpc.Server), interceptors ...grpc.UnaryServerInterceptor) error {
	srv, err := rpc.NewServer(rpc.ServerConfig{
		Name: p.Name, Addr: *p.listen, Logger: p.Log, UnaryInterceptors: interceptors,
		OnPanic: p.ReportPanic, OnError: p.ReportFault,
	})
	if err != nil {
		return fmt.Errorf("%s service: %w", p.Name, err)
	}
	register(srv.GRPC())
	srv.SetServing(service, true)
	if *p.metricsAddr != "" {
		if err := p.ServeHTTP(*p.metricsAddr, p.Telemetry.MetricsHandler()); err != nil {
			srv.Close()
			return err
		}
	}
	p.Log.Info(p.Name+" service listening", "addr", srv.Addr())
	return srv.Serve(ctx)
}

// ServeHTTP serves h on addr until shutdown.
func (p *Program) ServeHTTP(addr string, h http.Handler) error {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("http: %w", err)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(lis) }()
	p.Defer(func(ctx context.Context) error {
		err := hs.Shutdown(ctx)
		if serr := <-done; !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
		return err
	})
	p.Log.Info(p.Name+" http listening", "addr", lis.Addr().String())
	return nil
}

// Close runs the closers registered so far in reverse order.
func (p *Program) Close() error {
	var errs []error
	for _, fn := range slices.Backward(p.closers) {
		ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		errs = append(errs, fn(ctx))
		cancel()
	}
	p.closers = nil
	return errors.Join(errs...)
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
