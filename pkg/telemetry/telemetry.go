package telemetry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Config configures Setup. Every zero value is usable.
type Config struct {
	// ServiceName names the service in traces, metrics and log lines.
	// Zero means the OTEL_SERVICE_NAME variable, else "pianorhythm".
	ServiceName string
	// ServiceVersion is recorded on traces and metrics; zero records none.
	ServiceVersion string
	// OTLPEndpoint is the OTLP/gRPC collector for traces: a URL
	// ("http://collector:4317" without TLS, "https://..." with) or
	// host:port (no TLS: collectors run beside the services). Headers come
	// from OTEL_EXPORTER_OTLP_HEADERS. Zero means the
	// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT
	// variable; if both are empty, spans are not recorded but still have
	// ids, so log lines carry trace ids.
	OTLPEndpoint string
	// SampleRatio is the share of new traces sampled (0 < r <= 1); a
	// sampled parent is always followed. Zero means 1: trace everything.
	SampleRatio float64
	// LogLevel is the minimum level logged. Zero means Info.
	LogLevel slog.Level
	// LogFormat is "json" or "text". Zero means "json".
	LogFormat string
	// LogWriter receives the log lines. Nil means os.Stderr.
	LogWriter io.Writer
}

func (c Config) withDefaults() Config {
	if c.ServiceName == "" {
		c.ServiceName = os.Getenv("OTEL_SERVICE_NAME")
	}
	if c.ServiceName == "" {
		c.ServiceName = "pianorhythm"
	}
	if c.OTLPEndpoint == "" {
		c.OTLPEndpoint = os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
	}
	if c.OTLPEndpoint == "" {
		c.OTLPEndpoint = os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT")
	}
	if c.SampleRatio == 0 {
		c.SampleRatio = 1
	}
	if c.LogFormat == "" {
		c.LogFormat = "json"
	}
	if c.LogWriter == nil {
		c.LogWriter = os.Stderr
	}
	return c
}

// Validate reports a configuration Setup cannot use.
func (c Config) Validate() error {
	if c.SampleRatio < 0 || c.SampleRatio > 1 {
		return fmt.Errorf("sample ratio %v is outside (0, 1]", c.SampleRatio)
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		return fmt.Errorf("log format %q is neither json nor text", c.LogFormat)
	}
	return nil
}

// Telemetry holds one service's tracer and meter providers, logger and
// metrics registry. Its methods are safe for concurrent use; Shutdown
// flushes and stops the exporters.
type Telemetry struct {
	tp       *sdktrace.TracerProvider
	mp       *sdkmetric.MeterProvider
	registry *prometheus.Registry
	level    *slog.LevelVar
	logger   *slog.Logger

	shutdownOnce sync.Once
	shutdownErr  error
}

// Setup builds the providers, exporters and logger described by cfg. It
// changes no process globals; see Install.
func Setup(ctx context.Context, cfg Config) (*Telemetry, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("telemetry config: %w", err)
	}

	res, err := newResource(ctx, cfg)
	if err != nil {
		return nil, err
	}

	// Without an exporter no span is recorded (recording cost a sixth of
	// the CPU of a crowd arriving, bench/fanout/README.md), but every span
	// still gets ids, which log lines carry and calls propagate.
	tpOpts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.NeverSample()),
	}
	if cfg.OTLPEndpoint != "" {
		exp, err := newOTLPExporter(ctx, cfg.OTLPEndpoint)
		if err != nil {
			return nil, fmt.Errorf("create otlp trace exporter: %w", err)
		}
		tpOpts = append(tpOpts, sdktrace.WithBatcher(exp),
			sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(cfg.SampleRatio))))
	}
	tp := sdktrace.NewTracerProvider(tpOpts...)

	// An own registry, not prometheus.DefaultRegisterer: two Setups in one
	// process (all-in-one, tests) must not collide.
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	promExp, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		_ = tp.Shutdown(ctx)
		return nil, fmt.Errorf("create prometheus exporter: %w", err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithResource(res), sdkmetric.WithReader(promExp))

	level := new(slog.LevelVar)
	level.Set(cfg.LogLevel)
	return &Telemetry{
		tp:       tp,
		mp:       mp,
		registry: reg,
		level:    level,
		logger:   newLogger(cfg, level),
	}, nil
}

func newResource(ctx context.Context, cfg Config) (*resource.Resource, error) {
	attrs := []attribute.KeyValue{attribute.String("service.name", cfg.ServiceName)}
	if cfg.ServiceVersion != "" {
		attrs = append(attrs, attribute.String("service.version", cfg.ServiceVersion))
	}
	res, err := resource.New(ctx,
		resource.WithFromEnv(),
		resource.WithTelemetrySDK(),
		resource.WithHost(),
		resource.WithProcessRuntimeName(),
		resource.WithProcessRuntimeVersion(),
		// Last, so the configured name wins over OTEL_SERVICE_NAME.
		resource.WithAttributes(attrs...),
	)
	// A partial resource (a detector failed) is still worth having.
	if err != nil && !errors.Is(err, resource.ErrPartialResource) && !errors.Is(err, resource.ErrSchemaURLConflict) {
		return nil, fmt.Errorf("build otel resource: %w", err)
	}
	return res, nil
}

func newLogger(cfg Config, level *slog.LevelVar) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	if cfg.LogFormat == "text" {
		h = slog.NewTextHandler(cfg.LogWriter, opts)
	} else {
		h = slog.NewJSONHandler(cfg.LogWriter, opts)
	}
	return slog.New(NewLogHandler(h)).With("service", cfg.ServiceName)
}

// Install makes t the process default: the otel tracer and meter
// providers, the W3C TraceContext+Baggage propagator and slog.Default.
// Call it once, in main; libraries and tests take t's parts explicitly.
func (t *Telemetry) Install() {
	otel.SetTracerProvider(t.tp)
	otel.SetMeterProvider(t.mp)
	otel.SetTextMapPropagator(Propagator())
	slog.SetDefault(t.logger)
}

// TracerProvider returns the tracer provider.
func (t *Telemetry) TracerProvider() trace.TracerProvider { return t.tp }

// MeterProvider returns the meter provider whose instruments MetricsHandler
// serves.
func (t *Telemetry) MeterProvider() metric.MeterProvider { return t.mp }

// Logger returns the logger: JSON (or text) lines with service, and
// trace_id and span_id when the call's context holds a span.
func (t *Telemetry) Logger() *slog.Logger { return t.logger }

// Level is the logger's minimum level; setting it takes effect at once
// (the DiagnosticsService's SetLogLevel does).
func (t *Telemetry) Level() *slog.LevelVar { return t.level }

// Registry returns the Prometheus registry behind MetricsHandler, for
// collectors that are not OTel instruments.
func (t *Telemetry) Registry() *prometheus.Registry { return t.registry }

// MetricsHandler serves the metrics in the Prometheus text format (mount
// it at /metrics).
func (t *Telemetry) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(t.registry, promhttp.HandlerOpts{})
}

// Shutdown flushes pending spans and stops the providers; ctx bounds the
// flush. Later calls return the first call's result.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	t.shutdownOnce.Do(func() {
		var errs []error
		if err := t.tp.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shut down tracer provider: %w", err))
		}
		if err := t.mp.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shut down meter provider: %w", err))
		}
		t.shutdownErr = errors.Join(errs...)
	})
	return t.shutdownErr
}

var _ propagation.TextMapPropagator = Propagator()
