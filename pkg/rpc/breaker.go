package rpc

import (
	"context"
	"errors"
	"log/slog"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/sony/gobreaker/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
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

// newBreaker builds the breaker of one connection. Only server faults count
// as failures: a NOT_FOUND or PERMISSION_DENIED proves the server works, so
// it counts as a success; a call the caller cancelled counts as neither.
func newBreaker(name string, cfg BreakerConfig, log *slog.Logger, m breakerMetrics) *gobreaker.TwoStepCircuitBreaker[struct{}] {
	return gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        name,
		MaxRequests: cfg.HalfOpenMaxRequests,
		Timeout:     cfg.OpenTimeout,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			return c.ConsecutiveFailures >= cfg.ConsecutiveFailures
		},
		IsSuccessful: func(err error) bool { return !serverFault(callCode(err)) },
		IsExcluded:   func(err error) bool { return callCode(err) == codes.Canceled },
		OnStateChange: func(name string, from, to gobreaker.State) {
			log.Warn("circuit breaker state changed", "target", name, "from", from.String(), "to", to.String())
			m.changes.Add(context.Background(), 1, metric.WithAttributes(
				attribute.String("target", name), attribute.String("state", to.String())))
		},
	})
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
		done(err)
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
		done(err)
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
