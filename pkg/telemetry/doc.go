// Package telemetry sets up one service's observability: OpenTelemetry
// traces (exported over OTLP when a collector is configured), metrics served
// in the Prometheus format, and a slog logger whose lines carry the trace_id
// and span_id of the span in their context.
//
// The logger's level is a LevelVar (Telemetry.Level) that can change while
// the service runs; NewLevelHandler gives each service of a shared process
// its own. The OTLP endpoint may be host:port or a URL.
//
// Setup builds everything without touching process globals, so tests and
// libraries can use it freely; main calls Install once to make it the
// process default. InjectMap and ExtractMap carry trace context through
// Redis pub/sub and stream messages.
package telemetry
