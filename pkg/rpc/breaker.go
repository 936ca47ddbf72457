package rpc

import (
	"context"
	"errors"
	"log/slog"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/sony/gobreaker/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/status"
)

// breakerMetrics counts what the breakers do, labelled by target.
type breakerMetrics struct {
	changes  metric.Int64Counter
	rejected metric.Int64Counter
}

func newBreakerMetrics(mp metric.MeterProvider) breakerMetrics {
	meter := mp.Meter("github.com/pianorhythm/server/pkg/rpc")
	// Creation fails only on invalid names; the returned no-op instrument
	// is fine then.
	changes, _ := meter.Int64Counter("rpc.client.breaker.state_changes",
		metric.WithDescription("Circuit breaker state changes, by target and new state."))
	rejected, _ := meter.Int64Counter("rpc.client.breaker.rejected",
		metric.WithDescription("Calls failed at once because the target's circuit breaker was open."))
	return breakerMetrics{changes: changes, rejected: rejected}
}

// newBreaker builds the breaker of one connection. Only faults of a
// connected server count as failures: a NOT_FOUND or PERMISSION_DENIED
// proves the server works, and so does a refusal with a reason (an
// UNAVAILABLE that the server chose to answer because one of its own
// dependencies is down), so they count as successes. A call the caller
// cancelled, and a call that failed because the connection is down (gRPC
// fails those at once), count as neither: the breaker is there to stop callers
// waiting on a server that hangs, and a server that is unreachable is
// already failed fast by the transport. So when it comes back, calls reach
// it as soon as the connection is up, without waiting for the breaker.
func newBreaker(name string, cfg BreakerConfig, log *slog.Logger, m breakerMetrics) *gobreaker.TwoStepCircuitBreaker[struct{}] {
	return gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        name,
		MaxRequests: cfg.HalfOpenMaxRequests,
		Timeout:     cfg.OpenTimeout,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			return c.ConsecutiveFailures >= cfg.ConsecutiveFailures
		},
		IsSuccessful: func(err error) bool { return !serverFault(callCode(err)) || answered(err) },
		IsExcluded: func(err error) bool {
			return errors.Is(err, errNotConnected) || callCode(err) == codes.Canceled
		},
		OnStateChange: func(name string, from, to gobreaker.State) {
			log.Warn("circuit breaker state changed", "target", name, "from", from.String(), "to", to.String())
			m.changes.Add(context.Background(), 1, metric.WithAttributes(
				attribute.String("target", name), attribute.String("state", to.String())))
		},
	})
}

// errNotConnected marks, for the breaker only, a call that failed with
// UNAVAILABLE because the connection was down.
var errNotConnected = errors.New("connection not ready")

// answered reports whether err is a refusal a server gave on purpose: it
// carries our ErrorInfo with a reason other than INTERNAL.
func answered(err error) bool {
	st, ok := status.FromError(err)
	if !ok {
		return false
	}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetDomain() == ErrorDomain {
			return info.GetReason() != pb.ErrorReason_INTERNAL.String()
		}
	}
	return false
}

// outcome is what the breaker is told of a call that returned err, the
// connection being in state after it: an UNAVAILABLE that leaves the
// connection down came from the transport, not from the server.
func outcome(err error, after connectivity.State) error {
	if after != connectivity.Ready && callCode(err) == codes.Unavailable && !answered(err) {
		return errNotConnected
	}
	return err
}

// callCode is the gRPC code of a call's error, mapping bare context errors
// (from a retry wait) the way gRPC does.
func callCode(err error) codes.Code {
	if err == nil {
		return codes.OK
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		if _, ok := status.FromError(err); !ok {
			return status.FromContextError(err).Code()
		}
	}
	return status.Code(err)
}

// breakerUnary fails calls at once with UNAVAILABLE while the breaker is
// open, so callers can answer their own callers (or degrade) without
// waiting for deadlines on a service that is down.
func breakerUnary(name string, br *gobreaker.TwoStepCircuitBreaker[struct{}], m breakerMetrics) grpc.UnaryClientInterceptor {
	attrs := metric.WithAttributes(attribute.String("target", name))
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		done, err := br.Allow()
		if err != nil {
			m.rejected.Add(ctx, 1, attrs)
			return openError(name, err)
		}
		err = invoker(ctx, method, req, reply, cc, opts...)
		done(outcome(err, cc.GetState()))
		return err
	}
}

// breakerStream guards stream creation only: a stream's later errors belong
// to its owner, and no service streams today.
func breakerStream(name string, br *gobreaker.TwoStepCircuitBreaker[struct{}], m breakerMetrics) grpc.StreamClientInterceptor {
	attrs := metric.WithAttributes(attribute.String("target", name))
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		done, err := br.Allow()
		if err != nil {
			m.rejected.Add(ctx, 1, attrs)
			return nil, openError(name, err)
		}
		s, err := streamer(ctx, desc, cc, method, opts...)
		done(outcome(err, cc.GetState()))
		return s, err
	}
}

func openError(name string, err error) error {
	msg := name + ": circuit breaker open"
	if errors.Is(err, gobreaker.ErrTooManyRequests) {
		msg = name + ": circuit breaker half-open, probe in flight"
	}
	return Refuse(pb.ErrorReason_UNAVAILABLE, msg)
}
