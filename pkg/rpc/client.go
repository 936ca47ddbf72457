package rpc

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/pianorhythm/server/pkg/auth"
	"github.com/sony/gobreaker/v2"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	grpcbackoff "google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// ClientConfig configures Dial and NewClient. Every zero value except
// Target is usable.
type ClientConfig struct {
	// Target is the gRPC target ("127.0.0.1:9101", "dns:///state:9101").
	// Required.
	Target string
	// ServiceKeys sign the service credential of every call (see
	// auth.ServiceKeys), without which the servers of NewServer refuse it.
	// Required.
	ServiceKeys auth.ServiceKeys
	// Caller is the calling service's name, carried in the credential and
	// logged by the callee. Zero means "service".
	Caller string
	// Name is the target service's name, used for the breaker, in logs and
	// in the UNAVAILABLE message while the breaker is open. Zero means
	// Target.
	Name string
	// Timeout is the deadline given to a unary call whose context has none,
	// so no call waits forever. Zero means 5s. Streams get no default
	// deadline (they are meant to live long).
	Timeout time.Duration
	// Breaker configures the circuit breaker shared by every call on the
	// connection.
	Breaker BreakerConfig
	// Retry configures retries of the methods the protos declare
	// idempotent (retry.go).
	Retry RetryConfig
	// Reconnect bounds the waits between connection attempts while the
	// target is unreachable, so a service that comes back is reached again
	// within about MaxDelay however long it was away.
	Reconnect ReconnectConfig
	// Keepalive configures the pings that find a connection whose peer
	// vanished without closing it (a lost node, a dropped route).
	Keepalive KeepaliveConfig
	// Logger receives breaker state changes. Nil means slog.Default().
	Logger *slog.Logger
	// TracerProvider, MeterProvider and Propagator feed the otelgrpc stats
	// handler; the breaker's counters (rpc.client.breaker.state_changes,
	// rpc.client.breaker.rejected) use MeterProvider too. Nil means the
	// otel globals (set by telemetry.Install).
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
	Propagator     propagation.TextMapPropagator
	// Options are extra grpc.DialOptions appended last.
	Options []grpc.DialOption
}

// BreakerConfig configures the circuit breaker of one connection.
type BreakerConfig struct {
	// ConsecutiveFailures is the number of server faults in a row
	// (UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL, UNKNOWN, DATA_LOSS) that
	// opens the breaker. Zero means 5.
	ConsecutiveFailures uint32
	// OpenTimeout is how long the breaker stays open, failing every call at
	// once, before it lets probes through (half-open). Zero means 1s: a
	// probe a second costs a hung target little, and a target that comes
	// back is used again within a second.
	OpenTimeout time.Duration
	// HalfOpenMaxRequests is the number of probes allowed while half-open;
	// that many successes close the breaker, one failure opens it again.
	// Zero means 1.
	HalfOpenMaxRequests uint32
}

// RetryConfig configures retries of idempotent unary calls.
type RetryConfig struct {
	// MaxAttempts is the total number of attempts, the first included (at
	// most 5, gRPC's ceiling); 1 disables retries. Zero means 3.
	MaxAttempts int
	// Backoff bounds the random wait before the first retry; the bound
	// doubles for each next one, up to 1s (or Backoff when larger). Zero
	// means 50ms.
	Backoff time.Duration
}

// ReconnectConfig is gRPC's connection backoff: after each failed attempt
// the wait grows by 1.6 times, with 20% jitter, up to MaxDelay. (gRPC's own
// default starts at 1s and grows to 120s, so a service that was down for
// a minute was reached again only tens of seconds after it came back.)
type ReconnectConfig struct {
	// BaseDelay is the wait after the first failed attempt. Zero means
	// 100ms.
	BaseDelay time.Duration
	// MaxDelay caps the wait between attempts. Zero means 1s.
	MaxDelay time.Duration
	// ConnectTimeout bounds one connection attempt (TCP and HTTP/2
	// handshake); calls made meanwhile wait for it. Zero means 2s.
	ConnectTimeout time.Duration
}

// KeepaliveConfig configures client keepalive pings. The servers of
// NewServer accept them (down to every 5s, with no call in flight).
type KeepaliveConfig struct {
	// Time is the idle time after which the client pings the server.
	// Zero means 10s, the least gRPC allows.
	Time time.Duration
	// Timeout is how long a ping may go unanswered before the connection
	// is closed (and calls fail over to reconnecting). Zero means 5s.
	Timeout time.Duration
}

func (c ClientConfig) withDefaults() ClientConfig {
	if c.Name == "" {
		c.Name = c.Target
	}
	if c.Caller == "" {
		c.Caller = "service"
	}
	if c.Timeout == 0 {
		c.Timeout = 5 * time.Second
	}
	if c.Breaker.ConsecutiveFailures == 0 {
		c.Breaker.ConsecutiveFailures = 5
	}
	if c.Breaker.OpenTimeout == 0 {
		c.Breaker.OpenTimeout = time.Second
	}
	if c.Breaker.HalfOpenMaxRequests == 0 {
		c.Breaker.HalfOpenMaxRequests = 1
	}
	if c.Retry.MaxAttempts == 0 {
		c.Retry.MaxAttempts = 3
	}
	if c.Retry.Backoff == 0 {
		c.Retry.Backoff = 50 * time.Millisecond
	}
	if c.Reconnect.BaseDelay == 0 {
		c.Reconnect.BaseDelay = 100 * time.Millisecond
	}
	if c.Reconnect.MaxDelay == 0 {
		c.Reconnect.MaxDelay = time.Second
	}
	if c.Reconnect.ConnectTimeout == 0 {
		c.Reconnect.ConnectTimeout = 2 * time.Second
	}
	if c.Keepalive.Time == 0 {
		c.Keepalive.Time = 10 * time.Second
	}
	if c.Keepalive.Timeout == 0 {
		c.Keepalive.Timeout = 5 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Validate reports a configuration Dial cannot use.
func (c ClientConfig) Validate() error {
	switch {
	case c.Target == "":
		return fmt.Errorf("target is empty")
	case c.ServiceKeys.IsZero():
		return fmt.Errorf("no service keys: the servers refuse calls without a service credential")
	case strings.ContainsAny(c.Caller, ". "):
		return fmt.Errorf("caller %q must not contain dots or spaces", c.Caller)
	case c.Timeout < 0:
		return fmt.Errorf("timeout %v is negative", c.Timeout)
	case c.Breaker.OpenTimeout < 0:
		return fmt.Errorf("breaker open timeout %v is negative", c.Breaker.OpenTimeout)
	case c.Retry.MaxAttempts < 0:
		return fmt.Errorf("retry max attempts %d is negative", c.Retry.MaxAttempts)
	case c.Retry.Backoff < 0:
		return fmt.Errorf("retry backoff %v is negative", c.Retry.Backoff)
	case c.Reconnect.BaseDelay < 0, c.Reconnect.MaxDelay < 0, c.Reconnect.ConnectTimeout < 0:
		return fmt.Errorf("reconnect delays %+v must not be negative", c.Reconnect)
	case c.Reconnect.MaxDelay != 0 && c.Reconnect.BaseDelay > c.Reconnect.MaxDelay:
		return fmt.Errorf("reconnect base delay %v is above the max delay %v", c.Reconnect.BaseDelay, c.Reconnect.MaxDelay)
	case c.Keepalive.Time < 0, c.Keepalive.Timeout < 0:
		return fmt.Errorf("keepalive %+v must not be negative", c.Keepalive)
	}
	return nil
}

// Client is a connection to one service with its circuit breaker. It
// implements grpc.ClientConnInterface, so it builds pb clients directly
// (pb.NewStateServiceClient(c)). Safe for concurrent use.
type Client struct {
	conn    *grpc.ClientConn
	breaker *gobreaker.TwoStepCircuitBreaker[struct{}]
}

var _ grpc.ClientConnInterface = (*Client)(nil)

// Dial connects to cfg.Target (lazily: the first call connects) with, in
// order, a default deadline, a circuit breaker, retries of idempotent calls
// and OpenTelemetry, a reconnection backoff capped at Reconnect.MaxDelay,
// keepalive pings and the service credential of every call. The transport
// is plaintext: services talk over loopback or the cluster network, and
// the credential (not the network) is what the callee trusts; see the
// README's trust model. Close the connection when done.
func Dial(cfg ClientConfig) (*grpc.ClientConn, error) {
	c, err := NewClient(cfg)
	if err != nil {
		return nil, err
	}
	return c.conn, nil
}

// NewClient is Dial returning a Client, which also exposes the breaker's
// state (for tests, health pages and metrics).
func NewClient(cfg ClientConfig) (*Client, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("rpc client config: %w", err)
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

	mp := cfg.MeterProvider
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	serviceConfig, err := retryServiceConfig(cfg.Retry, protoregistry.GlobalFiles)
	if err != nil {
		return nil, err
	}
	bm := newBreakerMetrics(mp)
	br := newBreaker(cfg.Name, cfg.Breaker, cfg.Logger, bm)
	opts := append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff: grpcbackoff.Config{
				BaseDelay: cfg.Reconnect.BaseDelay, Multiplier: 1.6, Jitter: 0.2, MaxDelay: cfg.Reconnect.MaxDelay,
			},
			MinConnectTimeout: cfg.Reconnect.ConnectTimeout,
		}),
		// Pings also while no call is in flight: an idle connection to a
		// vanished peer is found before the next call waits on it.
		grpc.WithKeepaliveParams(keepalive.ClientParameters{
			Time: cfg.Keepalive.Time, Timeout: cfg.Keepalive.Timeout, PermitWithoutStream: true,
		}),
		grpc.WithDefaultServiceConfig(serviceConfig),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler(otelOpts...)),
		// gRPC's retries happen below the interceptors: the breaker counts
		// a call once, by its final outcome.
		grpc.WithChainUnaryInterceptor(
			deadlineUnary(cfg.Timeout),
			breakerUnary(cfg.Name, br, bm),
			SignUnary(cfg.ServiceKeys, cfg.Caller),
		),
		grpc.WithChainStreamInterceptor(breakerStream(cfg.Name, br, bm), SignStream(cfg.ServiceKeys, cfg.Caller)),
	}, cfg.Options...)

	conn, err := grpc.NewClient(cfg.Target, opts...)
	if err != nil {
		return nil, fmt.Errorf("dial %s (%s): %w", cfg.Name, cfg.Target, err)
	}
	return &Client{conn: conn, breaker: br}, nil
}

// Conn returns the underlying connection.
func (c *Client) Conn() *grpc.ClientConn { return c.conn }

// BreakerState returns the circuit breaker's state: closed (calls flow),
// open (calls fail at once with UNAVAILABLE) or half-open (probing).
func (c *Client) BreakerState() gobreaker.State { return c.breaker.State() }

// Invoke implements grpc.ClientConnInterface.
func (c *Client) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	return c.conn.Invoke(ctx, method, args, reply, opts...)
}

// NewStream implements grpc.ClientConnInterface.
func (c *Client) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	return c.conn.NewStream(ctx, desc, method, opts...)
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// deadlineUnary gives calls without a deadline the default one, so a hung
// service cannot hold its callers forever.
func deadlineUnary(timeout time.Duration) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, timeout)
			defer cancel()
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}
