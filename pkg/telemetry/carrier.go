package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/propagation"
)

// propagator is fixed rather than read from the otel globals: both ends of
// a Redis message are our services, and a fixed format keeps trace context
// flowing in tests and tools that never call Install.
var propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// Propagator returns the W3C TraceContext+Baggage propagator the services
// use (Install makes it the otel global).
func Propagator() propagation.TextMapPropagator { return propagator }

// InjectMap returns ctx's trace context (traceparent, tracestate, baggage)
// as a map to put into a Redis pub/sub or stream message; nil when ctx
// carries none.
func InjectMap(ctx context.Context) map[string]string {
	c := propagation.MapCarrier{}
	propagator.Inject(ctx, c)
	if len(c) == 0 {
		return nil
	}
	return c
}

// ExtractMap returns ctx with the trace context found in m (as written by
// InjectMap) as its remote parent; spans started from it join the sender's
// trace. Missing or malformed entries leave ctx as it is.
func ExtractMap(ctx context.Context, m map[string]string) context.Context {
	if len(m) == 0 {
		return ctx
	}
	return propagator.Extract(ctx, propagation.MapCarrier(m))
}
