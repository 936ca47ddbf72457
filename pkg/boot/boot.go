// Package boot is the common start of every service program
// (services/<name>/cmd/<name>): flags with environment defaults, telemetry,
// stores, clients of the other services, panic reports to the monitor, and
// serving gRPC until SIGINT/SIGTERM, then closing everything in reverse
// order. Each program only declares its own settings and builds its
// service, so all six read the same way.
//
// A program waits for what it needs at start (Redis, MongoDB, and the peers
// it names with WaitServing), logging what it waits for, and gives up only
// when it is told to stop; it stops within 10s of SIGTERM whatever its
// dependencies are doing.
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
	"github.com/pianorhythm/server/pkg/track"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// A program stops within stopBudget of SIGTERM whatever its dependencies
// are doing (an operator, Kubernetes' grace period and the fleet tests count
// on 10s): the gRPC server drains calls for grpcStopTimeout, the closers
// share closeTimeout, and a program still not done when stopBudget has
// passed since the signal exits all the same.
const (
	stopBudget      = 9 * time.Second
	grpcStopTimeout = 3 * time.Second
	closeTimeout    = 5 * time.Second
)

// Main runs a service program: run gets a Program named name (listening by
// default on defaultListen) and a context that SIGINT and SIGTERM cancel;
// whatever run registered with Defer is closed when it returns. Main exits
// with status 1 and one line "<name>: <error>" when it fails, or when
// stopping takes longer than stopBudget: it is the only place a service
// program exits.
func Main(name, defaultListen string, run func(ctx context.Context, p *Program) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	p := New(name, defaultListen, os.Args[1:])
	returned, closed := make(chan struct{}), make(chan struct{})
	watchdog := make(chan struct{})
	go func() {
		defer close(watchdog)
		select {
		case <-ctx.Done():
		case <-returned:
		}
		t := time.NewTimer(stopBudget)
		defer t.Stop()
		select {
		case <-t.C:
			fmt.Fprintf(os.Stderr, "%s: still stopping %v after the signal; exiting without waiting further\n", name, stopBudget)
			os.Exit(1)
		case <-closed:
		}
	}()
	err := run(ctx, p)
	close(returned)
	err = errors.Join(err, p.Close())
	close(closed)
	<-watchdog
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
	serviceKey, tokenIssuer, tokenAudience           *string
	tokenLeeway                                      *time.Duration
	peers                                            map[string]*string
	closers                                          []func(context.Context) error
	monitor                                          pb.MonitorServiceClient
	panics                                           func(service, where string, value any, stack []byte)
	faults                                           func(service, method string, err error)
	ready                                            func(context.Context) error

	// Set by Parse.
	keys      auth.ServiceKeys
	tokenCfg  auth.TokenConfig
	tokens    auth.TokenVerifier
	tokensErr error
}

// New declares the settings every program has: -listen (PR_LISTEN_ADDR,
// default defaultListen), -metrics-addr, -otlp-endpoint, -log-level,
// -monitor-addr (where panics are reported), the fleet's shared secret
// -service-key (PR_SERVICE_KEY) and the token settings every verifier
// shares (-token-issuer, -token-audience, -token-leeway, and -user-addr,
// whose JWKS verifies tokens); args are parsed by Parse.
func New(name, defaultListen string, args []string) *Program {
	fs := flagenv.New(name)
	p := &Program{
		Name:        name,
		Flags:       fs,
		args:        args,
		listen:      fs.String("listen", "PR_LISTEN_ADDR", defaultListen, "gRPC address this service listens on"),
		metricsAddr: fs.String("metrics-addr", "PR_METRICS_ADDR", "", "HTTP address serving /metrics (empty: none)"),
		otlp:        fs.String("otlp-endpoint", "OTEL_EXPORTER_OTLP_ENDPOINT", "", "OTLP gRPC endpoint for traces (empty: no export)"),
		logLevel:    fs.String("log-level", "PR_LOG_LEVEL", "info", "debug, info, warn or error"),
		monitorAddr: fs.String("monitor-addr", "PR_MONITOR_ADDR", "", "monitor service that panics are reported to (empty: logs only)"),
		serviceKey: fs.Secret("service-key", "PR_SERVICE_KEY", "",
			"base64 key (32+ bytes; comma-separated to rotate, the first signs) shared by every program of the fleet: "+
				"it signs and checks every internal call (required; e.g. openssl rand -base64 32)"),
		tokenIssuer:   fs.String("token-issuer", "PR_TOKEN_ISSUER", auth.DefaultIssuer, "iss claim access tokens are minted with and must carry"),
		tokenAudience: fs.String("token-audience", "PR_TOKEN_AUDIENCE", auth.DefaultAudience, "aud claim access tokens are minted with and must carry"),
		tokenLeeway:   fs.Duration("token-leeway", "PR_TOKEN_LEEWAY", auth.DefaultLeeway, "clock skew tolerated on access tokens' times"),
		peers:         map[string]*string{},
	}
	p.Peer("user", "127.0.0.1:9102")
	return p
}

// Peer declares the address of another service: -<name>-addr, from
// PR_<NAME>_ADDR, the same variables the all-in-one program uses. Declaring
// a peer twice returns the first declaration (every program has "user").
func (p *Program) Peer(name, def string) *string {
	if v, ok := p.peers[name]; ok {
		return v
	}
	v := p.Flags.String(name+"-addr", "PR_"+upper(name)+"_ADDR", def, name+" service gRPC address")
	p.peers[name] = v
	return v
}

// Parse parses the arguments, checks the service key and the token
// settings, prints the configuration (secrets masked) and sets up
// telemetry.
func (p *Program) Parse(ctx context.Context) error {
	if err := p.Flags.Parse(p.args); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*p.logLevel)); err != nil {
		return fmt.Errorf("PR_LOG_LEVEL=%q: want debug, info, warn or error", *p.logLevel)
	}
	if *p.serviceKey == "" {
		return errors.New("PR_SERVICE_KEY is not set: every program of the fleet needs the same service key " +
			"(base64 of 32 random bytes, e.g. openssl rand -base64 32) to call the others and to be called")
	}
	keys, err := auth.ParseServiceKeys(*p.serviceKey)
	if err != nil {
		return fmt.Errorf("PR_SERVICE_KEY: %w", err)
	}
	p.keys = keys
	p.tokenCfg = auth.TokenConfig{Issuer: *p.tokenIssuer, Audience: *p.tokenAudience, Leeway: *p.tokenLeeway}
	if err := p.tokenCfg.Validate(); err != nil {
		return fmt.Errorf("token settings (PR_TOKEN_*): %w", err)
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

// Redis opens Redis (embedded when url is empty) until shutdown. A real
// server that does not answer is waited for (see WaitServing) until ctx
// ends; a malformed url fails at once.
func (p *Program) Redis(ctx context.Context, url string) (*store.Redis, error) {
	var r *store.Redis
	open := func(ctx context.Context) (err error) {
		r, err = store.OpenRedis(ctx, store.RedisConfig{URL: url})
		return err
	}
	var err error
	if url == "" {
		err = open(ctx)
	} else {
		opt, perr := redis.ParseURL(url)
		if perr != nil {
			return nil, fmt.Errorf("redis url %s: %w", flagenv.MaskURL(url), perr)
		}
		err = p.retry(ctx, "redis at "+opt.Addr, open)
	}
	if err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	p.Defer(func(context.Context) error { return r.Close() })
	return r, nil
}

// Events returns an emitter of analytics events to stream on rdb. It is
// closed at shutdown after everything opened later (closers run in
// reverse), so the service's last events are flushed.
func (p *Program) Events(rdb *store.Redis, stream string) *track.Emitter {
	e := track.NewEmitter(rdb.Client, track.Config{Stream: stream, Logger: p.Log})
	p.Defer(e.Close)
	return e
}

// Mongo opens MongoDB (embedded FerretDB when cfg.URI is empty) until
// shutdown. A real server that does not answer is waited for (see
// WaitServing) until ctx ends; a malformed URI fails at once.
func (p *Program) Mongo(ctx context.Context, cfg store.MongoConfig) (*store.Mongo, error) {
	cfg.Logger = p.Log
	var m *store.Mongo
	open := func(ctx context.Context) (err error) {
		m, err = store.OpenMongo(ctx, cfg)
		return err
	}
	var err error
	if cfg.URI == "" {
		err = open(ctx)
	} else {
		if verr := options.Client().ApplyURI(cfg.URI).Validate(); verr != nil {
			return nil, fmt.Errorf("mongodb uri %s: %w", flagenv.MaskURL(cfg.URI), verr)
		}
		err = p.retry(ctx, "mongodb at "+flagenv.MaskURL(cfg.URI), open)
	}
	if err != nil {
		return nil, fmt.Errorf("mongodb: %w", err)
	}
	p.Defer(m.Close)
	return m, nil
}

// Dial connects to another service (with deadlines, a circuit breaker,
// retries of idempotent calls and this program's service credential on
// every call) until shutdown.
func (p *Program) Dial(name, target string) (*grpc.ClientConn, error) {
	conn, err := rpc.Dial(rpc.ClientConfig{Target: target, Name: name, Logger: p.Log, ServiceKeys: p.keys, Caller: p.Name})
	if err != nil {
		return nil, fmt.Errorf("dial %s service at %s: %w", name, target, err)
	}
	p.Defer(func(context.Context) error { return conn.Close() })
	return conn, nil
}

// TokenConfig is the token settings every verifier and the user service's
// signer share (-token-issuer, -token-audience, -token-leeway).
func (p *Program) TokenConfig() auth.TokenConfig { return p.tokenCfg }

// ServiceKeys are the fleet's service keys (-service-key).
func (p *Program) ServiceKeys() auth.ServiceKeys { return p.keys }

// SetTokens makes v the program's token verifier (the user service
// verifies its own tokens locally); call it before Tokens or Serve.
func (p *Program) SetTokens(v auth.TokenVerifier) { p.tokens = v }

// Tokens is the program's verifier of access tokens: unless SetTokens gave
// one, a verifier of the user service's JWKS (at -user-addr, fetched when
// first needed) with the shared TokenConfig. Serve installs it on the gRPC
// server, so no program can forget to authenticate its callers' tokens.
func (p *Program) Tokens() (auth.TokenVerifier, error) {
	if p.tokens != nil || p.tokensErr != nil {
		return p.tokens, p.tokensErr
	}
	conn, err := p.Dial("user", *p.peers["user"])
	if err != nil {
		p.tokensErr = err
		return nil, err
	}
	client := pb.NewUserServiceClient(conn)
	v, err := auth.NewVerifier(auth.VerifierConfig{TokenConfig: p.tokenCfg, Fetch: func(ctx context.Context) (*pb.JwksResponse, error) {
		return client.Jwks(ctx, &pb.JwksRequest{})
	}})
	if err != nil {
		p.tokensErr = fmt.Errorf("token verifier: %w", err)
		return nil, p.tokensErr
	}
	p.tokens = v
	return v, nil
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

// Serve listens on -listen, lets register add the service, and serves
// until ctx is done (and /metrics when -metrics-addr is set). Every call
// must carry the fleet's service credential (health and reflection
// excepted), and the callers' tokens are verified with Tokens: both are
// installed here, for every program alike.
func (p *Program) Serve(ctx context.Context, service string, register func(*grpc.Server)) error {
	tokens, err := p.Tokens()
	if err != nil {
		return fmt.Errorf("%s service: %w", p.Name, err)
	}
	srv, err := rpc.NewServer(rpc.ServerConfig{
		Name: p.Name, Addr: *p.listen, Logger: p.Log, ServiceKeys: p.keys, Tokens: tokens,
		OnPanic: p.ReportPanic, OnError: p.ReportFault, LogLevel: p.Telemetry.Level(), StopTimeout: grpcStopTimeout,
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
	if p.ready == nil {
		return srv.Serve(ctx)
	}
	watched := make(chan struct{})
	go func() { defer close(watched); srv.WatchReady(ctx, service, p.ready, p.Log) }()
	defer func() { <-watched }()
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

// Close runs the closers registered so far in reverse order. They share
// one deadline (closeTimeout), so a closer stuck on a dependency that is
// down leaves the others less time, not the program more.
func (p *Program) Close() error { return p.closeWithin(closeTimeout) }

func (p *Program) closeWithin(d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var errs []error
	for _, fn := range slices.Backward(p.closers) {
		errs = append(errs, fn(ctx))
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
