package edge

import (
	"context"

	"github.com/pianorhythm/server/pkg/telemetry"
	"go.opentelemetry.io/otel/trace"
)

// tracerName names the edge's tracer. Span names of client messages come
// from the handlers table (handlers.go, routes.go).
const tracerName = "github.com/pianorhythm/server/services/connection/edge"

// traceOf is ctx's W3C trace context for a Redis message; nil (and no
// work) when ctx carries no valid span.
func traceOf(ctx context.Context) map[string]string {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return nil
	}
	return telemetry.InjectMap(ctx)
}
