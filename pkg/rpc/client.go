package rpc

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/sony/gobreaker/v2"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// ClientConfig configures Dial and NewClient. Every zero value except
// Target is usable.
type ClientConfig struct {
	// Target is the gRPC target ("127.0.0.1:9101", "dns:///state:9101").
	// Required.
	Target string
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
	// Retry configures retries of idempotent calls.
	Retry RetryConfig
	// Idempotent reports whether the method (a full name such as
	// "/pianorhythm.v1.StateService/GetUser") may be retried. Nil means
	// DefaultIdempotent.
	Idempotent func(fullMethod string) bool
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
	// once, before it lets probes through (half-open). Zero means 5s.
	OpenTimeout time.Duration
	// HalfOpenMaxRequests is the number of probes allowed while half-open;
	// that many successes close the breaker, one failure opens it again.
	// Zero means 1.
	HalfOpenMaxRequests uint32
}

// RetryConfig configures retries of idempotent unary calls.
type RetryConfig struct {
	// MaxAttempts is the total number of attempts, the first included; 1
	// disables retries. Zero means 3.
	MaxAttempts int
	// Backoff is the wait before the first retry; it doubles for each next
	// one, with jitter of up to half of it either way. Zero means 50ms.
	Backoff time.Duration
}

func (c ClientConfig) withDefaults() ClientConfig {
	if c.Name == "" {
		c.Name = c.Target
	}
	if c.Timeout == 0 {
		c.Timeout = 5 * time.Second
	}
	if c.Breaker.ConsecutiveFailures == 0 {
		c.Breaker.ConsecutiveFailures = 5
	}
	if c.Breaker.OpenTimeout == 0 {
		c.Breaker.OpenTimeout = 5 * time.Second
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
	if c.Idempotent == nil {
		c.Idempotent = DefaultIdempotent
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
	case c.Timeout < 0:
		return fmt.Errorf("timeout %v is negative", c.Timeout)
	case c.Breaker.OpenTimeout < 0:
		return fmt.Errorf("breaker open timeout %v is negative", c.Breaker.OpenTimeout)
	case c.Retry.MaxAttempts < 0:
		return fmt.Errorf("retry max attempts %d is negative", c.Retry.MaxAttempts)
	case c.Retry.Backoff < 0:
		return fmt.Errorf("retry backoff %v is negative", c.Retry.Backoff)
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
// and OpenTelemetry. It uses insecure credentials: services talk over
// loopback or the cluster network. Close the connection when done.
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
	bm := newBreakerMetrics(mp)
	br := newBreaker(cfg.Name, cfg.Breaker, cfg.Logger, bm)
	opts := append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler(otelOpts...)),
		grpc.WithChainUnaryInterceptor(
			deadlineUnary(cfg.Timeout),
			breakerUnary(cfg.Name, br, bm),
			retryUnary(cfg.Retry, cfg.Idempotent),
		),
		grpc.WithChainStreamInterceptor(breakerStream(cfg.Name, br, bm)),
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
