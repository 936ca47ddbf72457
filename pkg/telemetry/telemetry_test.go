package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"github.com/go-logr/stdr"
	"io"
	stdlog "log"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/trace"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"go.uber.org/goleak"
	"google.golang.org/grpc"

	"github.com/pianorhythm/server/pkg/logtest"
	"github.com/pianorhythm/server/pkg/telemetry"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// setup returns a Telemetry without exporter writing logs to buf.
func setup(t *testing.T, buf io.Writer) *telemetry.Telemetry {
	t.Helper()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	tel, err := telemetry.Setup(t.Context(), telemetry.Config{
		ServiceName: "test",
		LogLevel:    slog.LevelDebug,
		LogWriter:   buf,
	})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	return tel
}

func TestLogLinesCarrySpanIDs(t *testing.T) {
	var buf bytes.Buffer
	tel := setup(t, &buf)

	ctx, span := tel.TracerProvider().Tracer("test").Start(t.Context(), "work")
	tel.Logger().InfoContext(ctx, "inside", "k", "v")
	span.End()
	tel.Logger().InfoContext(t.Context(), "outside")

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 2)

	var inside, outside map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &inside))
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &outside))

	sc := span.SpanContext()
	require.True(t, sc.IsValid(), "spans have ids without an exporter")
	assert.False(t, span.IsRecording(), "nothing records what no exporter sends")
	assert.Equal(t, sc.TraceID().String(), inside["trace_id"])
	assert.Equal(t, sc.SpanID().String(), inside["span_id"])
	assert.Equal(t, "test", inside["service"])
	assert.Equal(t, "v", inside["k"])
	assert.NotContains(t, outside, "trace_id")
}

func TestLogHandlerKeepsAttrsAndGroups(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(telemetry.NewLogHandler(slog.NewJSONHandler(&buf, nil))).With("a", 1).WithGroup("g")
	tel := setup(t, io.Discard)
	ctx, span := tel.TracerProvider().Tracer("test").Start(t.Context(), "work")
	defer span.End()

	log.InfoContext(ctx, "hi", "b", 2)

	var line map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
	assert.EqualValues(t, 1, line["a"])
	g, ok := line["g"].(map[string]any)
	require.True(t, ok, "group kept: %s", buf.String())
	assert.EqualValues(t, 2, g["b"])
	assert.Equal(t, span.SpanContext().TraceID().String(), g["trace_id"])
}

func TestMetricsHandlerServesCounter(t *testing.T) {
	tel := setup(t, io.Discard)
	counter, err := tel.MeterProvider().Meter("test").Int64Counter("notes_played")
	require.NoError(t, err)
	counter.Add(t.Context(), 3)

	rec := httptest.NewRecorder()
	tel.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	require.Equal(t, 200, rec.Code)
	body := rec.Body.String()
	assert.Regexp(t, `(?m)^notes_played_total\{.*\} 3$`, body)
	assert.Contains(t, body, "go_goroutines")
}

func TestTwoSetupsDoNotCollide(t *testing.T) {
	a := setup(t, io.Discard)
	b := setup(t, io.Discard)
	for _, tel := range []*telemetry.Telemetry{a, b} {
		c, err := tel.MeterProvider().Meter("test").Int64Counter("same_name")
		require.NoError(t, err)
		c.Add(t.Context(), 1)
		rec := httptest.NewRecorder()
		tel.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		assert.Contains(t, rec.Body.String(), "same_name_total")
	}
}

func TestCarrierRoundTrip(t *testing.T) {
	tel := setup(t, io.Discard)
	member, err := baggage.NewMember("room", "lobby")
	require.NoError(t, err)
	bag, err := baggage.New(member)
	require.NoError(t, err)
	ctx := baggage.ContextWithBaggage(t.Context(), bag)
	ctx, span := tel.TracerProvider().Tracer("test").Start(ctx, "publish")
	defer span.End()

	m := telemetry.InjectMap(ctx)
	require.Contains(t, m, "traceparent")

	got := telemetry.ExtractMap(context.Background(), m)
	sc := trace.SpanContextFromContext(got)
	assert.True(t, sc.IsRemote())
	assert.Equal(t, span.SpanContext().TraceID(), sc.TraceID())
	assert.Equal(t, span.SpanContext().SpanID(), sc.SpanID())
	assert.Equal(t, "lobby", baggage.FromContext(got).Member("room").Value())

	// A consumer span joins the producer's trace.
	_, child := tel.TracerProvider().Tracer("test").Start(got, "consume")
	defer child.End()
	assert.Equal(t, span.SpanContext().TraceID(), child.SpanContext().TraceID())
}

func TestCarrierWithoutTrace(t *testing.T) {
	assert.Nil(t, telemetry.InjectMap(context.Background()))
	ctx := context.Background()
	assert.Equal(t, ctx, telemetry.ExtractMap(ctx, nil))
	bad := telemetry.ExtractMap(ctx, map[string]string{"traceparent": "garbage"})
	assert.False(t, trace.SpanContextFromContext(bad).IsValid())
}

func TestSetupValidates(t *testing.T) {
	_, err := telemetry.Setup(t.Context(), telemetry.Config{SampleRatio: 2})
	require.ErrorContains(t, err, "sample ratio")
	_, err = telemetry.Setup(t.Context(), telemetry.Config{LogFormat: "xml"})
	require.ErrorContains(t, err, "log format")
}

// collector is an OTLP trace receiver counting the spans it gets.
type collector struct {
	collectortrace.UnimplementedTraceServiceServer
	mu    sync.Mutex
	names []string
}

func (c *collector) Export(_ context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				c.names = append(c.names, s.GetName())
			}
		}
	}
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

func (c *collector) spans() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.names...)
}

func TestSetupExportsToOTLPEndpoint(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	gs := grpc.NewServer()
	col := &collector{}
	collectortrace.RegisterTraceServiceServer(gs, col)
	go func() { _ = gs.Serve(lis) }()
	defer gs.Stop()

	tests := map[string]string{
		"config host:port": lis.Addr().String(),
		"config url":       "http://" + lis.Addr().String(),
		"env url":          "http://" + lis.Addr().String(),
		"env host:port":    lis.Addr().String(),
	}
	// What the OTLP libraries print through otel's logger (a bare
	// 127.0.0.1:port in the variable used to print "parse url" errors).
	var printed strings.Builder
	var printedMu sync.Mutex
	prev := otelLogger()
	otel.SetLogger(funcr.New(func(prefix, args string) {
		printedMu.Lock()
		defer printedMu.Unlock()
		printed.WriteString(prefix + args + "\n")
	}, funcr.Options{}))
	t.Cleanup(func() { otel.SetLogger(prev) })
	for name, endpoint := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := telemetry.Config{ServiceName: "test", LogWriter: io.Discard}
			t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
			if strings.HasPrefix(name, "env") {
				t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
			} else {
				cfg.OTLPEndpoint = endpoint
			}
			tel, err := telemetry.Setup(t.Context(), cfg)
			require.NoError(t, err)
			_, span := tel.TracerProvider().Tracer("test").Start(t.Context(), "exported-"+name)
			span.End()

			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			require.NoError(t, tel.Shutdown(ctx), "shutdown flushes the batch")
			assert.Contains(t, col.spans(), "exported-"+name)
			printedMu.Lock()
			defer printedMu.Unlock()
			assert.Empty(t, printed.String(), "nothing printed at start")
		})
	}
}

func TestBadOTLPEndpointIsOneClearError(t *testing.T) {
	for _, e := range []string{"collector", "ftp://collector:4317", "http://"} {
		_, err := telemetry.Setup(t.Context(), telemetry.Config{OTLPEndpoint: e, LogWriter: io.Discard})
		require.ErrorContains(t, err, "otlp endpoint", e)
	}
}

func TestLogLevelChangesAtRunTime(t *testing.T) {
	var buf logtest.Buffer
	tel, err := telemetry.Setup(t.Context(), telemetry.Config{LogLevel: slog.LevelInfo, LogWriter: &buf})
	require.NoError(t, err)
	tel.Logger().Debug("before the change")
	tel.Level().Set(slog.LevelDebug)
	tel.Logger().Debug("after the change")
	assert.NotContains(t, buf.String(), "before the change")
	assert.Contains(t, buf.String(), "after the change")

	// One handler, two services with their own levels (the all-in-one).
	buf.Reset()
	base := slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})
	var roomLevel, userLevel slog.LevelVar
	room := slog.New(telemetry.NewLevelHandler(base, &roomLevel)).With("component", "room")
	user := slog.New(telemetry.NewLevelHandler(base, &userLevel)).With("component", "user")
	room.Debug("room debug 1")
	userLevel.Set(slog.LevelDebug)
	user.Debug("user debug")
	room.Debug("room debug 2")
	assert.NotContains(t, buf.String(), "room debug")
	assert.Contains(t, buf.String(), "user debug")

	for s, want := range map[string]slog.Level{"debug": slog.LevelDebug, "INFO": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError} {
		got, err := telemetry.ParseLevel(s)
		require.NoError(t, err)
		assert.Equal(t, want, got)
		assert.Equal(t, strings.ToLower(s), telemetry.LevelName(got))
	}
	_, err = telemetry.ParseLevel("loud")
	assert.Error(t, err)
}

func TestShutdownTwice(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	tel, err := telemetry.Setup(t.Context(), telemetry.Config{LogWriter: io.Discard})
	require.NoError(t, err)
	require.NoError(t, tel.Shutdown(t.Context()))
	require.NoError(t, tel.Shutdown(t.Context()))
}

func TestInstallSetsGlobals(t *testing.T) {
	tel := setup(t, io.Discard)
	prevLog := slog.Default()
	prevTP, prevMP, prevProp := otel.GetTracerProvider(), otel.GetMeterProvider(), otel.GetTextMapPropagator()
	t.Cleanup(func() {
		slog.SetDefault(prevLog)
		otel.SetTracerProvider(prevTP)
		otel.SetMeterProvider(prevMP)
		otel.SetTextMapPropagator(prevProp)
	})

	tel.Install()
	assert.Same(t, tel.TracerProvider(), otel.GetTracerProvider())
	assert.Same(t, tel.MeterProvider(), otel.GetMeterProvider())
	assert.Same(t, tel.Logger(), slog.Default())
	assert.ElementsMatch(t, []string{"traceparent", "tracestate", "baggage"}, otel.GetTextMapPropagator().Fields())
}

// otelLogger is otel's default internal logger (otel offers no getter), to
// put back after a test.
func otelLogger() logr.Logger {
	return stdr.New(stdlog.New(os.Stderr, "", stdlog.LstdFlags|stdlog.Lshortfile))
}
