package rpc_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/logtest"
	"github.com/pianorhythm/server/pkg/rpc"
	"github.com/pianorhythm/server/pkg/telemetry"
)

// TestDiagnosticsReportTheProcessAndChangeTheLogLevel: every server
// answers the monitor with its process figures, its open connections and
// gauges, and changes its log level at once: a debug line appears after
// the change, not before.
func TestDiagnosticsReportTheProcessAndChangeTheLogLevel(t *testing.T) {
	var buf logtest.Buffer
	level := new(slog.LevelVar) // info
	log := slog.New(telemetry.NewLevelHandler(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}), level))
	srv := startServer(t, rpc.ServerConfig{
		Name: "state", Logger: log, LogLevel: level,
		Gauges: func() map[string]float64 { return map[string]float64{"websocket_connections": 3} },
	}, newFakeState())
	conn := plainConn(t, srv.Addr())
	diag := pb.NewDiagnosticsServiceClient(conn)
	state := pb.NewStateServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	monitor := auth.OutgoingContext(ctx, auth.System("monitor"))

	d, err := diag.GetDiagnostics(monitor, &pb.GetDiagnosticsRequest{})
	require.NoError(t, err)
	assert.Equal(t, "state", d.GetService())
	assert.Positive(t, d.GetGoroutines())
	assert.Positive(t, d.GetMemoryBytes(), "resident memory from /proc")
	assert.Positive(t, d.GetHeapBytes())
	assert.Positive(t, d.GetOpenFds())
	assert.Positive(t, d.GetOpenSockets(), "at least the listener and this connection")
	assert.EqualValues(t, 1, d.GetGrpcConnections(), "this client")
	assert.GreaterOrEqual(t, d.GetCpuSeconds(), 0.0)
	assert.Equal(t, "info", d.GetLogLevel())
	assert.Equal(t, map[string]float64{"websocket_connections": 3}, d.GetGauges())
	second := plainConn(t, srv.Addr())
	d, err = pb.NewDiagnosticsServiceClient(second).GetDiagnostics(monitor, &pb.GetDiagnosticsRequest{})
	require.NoError(t, err)
	assert.EqualValues(t, 2, d.GetGrpcConnections())

	_, err = state.GetUser(ctx, &pb.GetUserRequest{UserId: "u1"})
	require.NoError(t, err)
	assert.NotContains(t, buf.String(), "GetUser", "an OK call is logged at debug")

	lv, err := diag.SetLogLevel(monitor, &pb.DiagnosticsLogLevel{Level: "debug"})
	require.NoError(t, err)
	assert.Equal(t, "debug", lv.GetLevel())
	_, err = state.GetUser(ctx, &pb.GetUserRequest{UserId: "u1"})
	require.NoError(t, err)
	assert.Contains(t, buf.String(), "/pianorhythm.v1.StateService/GetUser", "effective at once")
	lv, err = diag.SetLogLevel(monitor, &pb.DiagnosticsLogLevel{})
	require.NoError(t, err)
	assert.Equal(t, "debug", lv.GetLevel(), "an empty level reads it")

	_, err = diag.SetLogLevel(monitor, &pb.DiagnosticsLogLevel{Level: "loud"})
	assert.Equal(t, codes.InvalidArgument, status.Code(err))
	_, err = diag.GetDiagnostics(ctx, &pb.GetDiagnosticsRequest{})
	assert.Equal(t, codes.Unauthenticated, status.Code(err), "anonymous")
	member := auth.OutgoingContext(ctx, auth.Identity{UserID: "u1", Roles: []pb.Role{pb.Role_MEMBER}})
	_, err = diag.SetLogLevel(member, &pb.DiagnosticsLogLevel{Level: "error"})
	assert.Equal(t, codes.PermissionDenied, status.Code(err))
	assert.Equal(t, slog.LevelDebug, level.Level(), "unchanged by a refused call")

	fixed := startServer(t, rpc.ServerConfig{Name: "fixed", Logger: quietLogger()}, newFakeState())
	_, err = pb.NewDiagnosticsServiceClient(plainConn(t, fixed.Addr())).SetLogLevel(monitor, &pb.DiagnosticsLogLevel{Level: "debug"})
	assert.Equal(t, codes.FailedPrecondition, status.Code(err), "a server without a LogLevel")
}
