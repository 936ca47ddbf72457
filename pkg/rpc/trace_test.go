package rpc_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/logtest"
	"github.com/pianorhythm/server/pkg/rpc"
	"github.com/pianorhythm/server/pkg/telemetry"
)

// TestTraceFlowsToServerLogs checks the whole chain: the client's span is
// propagated by otelgrpc, and the server's request log carries its trace.
func TestTraceFlowsToServerLogs(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	var logs logtest.Buffer
	serverTel, err := telemetry.Setup(t.Context(), telemetry.Config{
		ServiceName: "state", LogLevel: -4, LogWriter: &logs,
	})
	require.NoError(t, err)
	clientTel, err := telemetry.Setup(t.Context(), telemetry.Config{ServiceName: "room", LogWriter: io.Discard})
	require.NoError(t, err)
	t.Cleanup(func() {
		require.NoError(t, serverTel.Shutdown(t.Context()))
		require.NoError(t, clientTel.Shutdown(t.Context()))
	})

	srv := startServer(t, rpc.ServerConfig{
		Logger:         serverTel.Logger(),
		TracerProvider: serverTel.TracerProvider(),
		MeterProvider:  serverTel.MeterProvider(),
		Propagator:     telemetry.Propagator(),
	}, newFakeState())
	_, client := dial(t, srv, rpc.ClientConfig{
		TracerProvider: clientTel.TracerProvider(),
		MeterProvider:  clientTel.MeterProvider(),
		Propagator:     telemetry.Propagator(),
	})

	ctx, span := clientTel.TracerProvider().Tracer("test").Start(t.Context(), "join room")
	_, err = client.GetUser(ctx, &pb.GetUserRequest{UserId: "u1"})
	span.End()
	require.NoError(t, err)

	var found bool
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	for sc.Scan() {
		var line map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &line))
		if line["msg"] != "grpc call" {
			continue
		}
		found = true
		assert.Equal(t, span.SpanContext().TraceID().String(), line["trace_id"])
		assert.Equal(t, "state", line["service"])
	}
	assert.True(t, found, "no request log in %s", logs.String())
}

func TestBreakerMetrics(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	tel, err := telemetry.Setup(t.Context(), telemetry.Config{LogWriter: io.Discard})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(t.Context())) })

	fake := newFakeState()
	fake.setHandler(failWith(codes.Unavailable))
	srv := startServer(t, rpc.ServerConfig{}, fake)
	_, client := dial(t, srv, rpc.ClientConfig{
		Name:          "state",
		MeterProvider: tel.MeterProvider(),
		Breaker:       rpc.BreakerConfig{ConsecutiveFailures: 1, OpenTimeout: time.Minute},
	})
	for range 3 {
		_, err := client.SaveUser(t.Context(), &pb.SaveUserRequest{})
		require.Equal(t, codes.Unavailable, status.Code(err))
	}

	rec := httptest.NewRecorder()
	tel.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	assert.Regexp(t, `(?m)^rpc_client_breaker_rejected_total\{.*target="state".*\} 2$`, body)
	assert.Regexp(t, `(?m)^rpc_client_breaker_state_changes_total\{.*state="open".*\} 1$`, body)
}
