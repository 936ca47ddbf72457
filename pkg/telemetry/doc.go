// Package telemetry sets up one service's observability: OpenTelemetry
// traces (exported over OTLP when a collector is configured), metrics served
// in the Prometheus format, and a slog logger whose lines carry the trace_id
// and span_id of the span in their context.
//
// Setup builds everything without touching process globals, so tests and
// libraries can use it freely; main calls Install once to make it the
// process default. InjectMap and ExtractMap carry trace context through
// Redis pub/sub and stream messages.
package telemetry
