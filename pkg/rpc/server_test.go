package rpc_test

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/logtest"
	"github.com/pianorhythm/server/pkg/rpc"
)

const stateService = "pianorhythm.v1.StateService"

func plainConn(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, append(rpc.WithServiceCredentials(keys, "test"), grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// unsignedConn is a connection whose calls carry no service credential.
func unsignedConn(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func TestServerHealth(t *testing.T) {
	srv := startServer(t, rpc.ServerConfig{Name: "state"}, newFakeState())
	hc := healthpb.NewHealthClient(plainConn(t, srv.Addr()))
	ctx := t.Context()

	check := func(service string) healthpb.HealthCheckResponse_ServingStatus {
		t.Helper()
		resp, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: service})
		require.NoError(t, err)
		return resp.GetStatus()
	}

	srv.SetServing(stateService, true)
	assert.Equal(t, healthpb.HealthCheckResponse_SERVING, check(""))
	assert.Equal(t, healthpb.HealthCheckResponse_SERVING, check(stateService))

	srv.SetServing(stateService, false)
	assert.Equal(t, healthpb.HealthCheckResponse_NOT_SERVING, check(""))
	assert.Equal(t, healthpb.HealthCheckResponse_NOT_SERVING, check(stateService))

	_, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: "no.Such"})
	assert.Equal(t, codes.NotFound, status.Code(err))
}

func TestServerReflectionListsServices(t *testing.T) {
	srv := startServer(t, rpc.ServerConfig{}, newFakeState())
	rc := reflectionpb.NewServerReflectionClient(plainConn(t, srv.Addr()))

	stream, err := rc.ServerReflectionInfo(t.Context())
	require.NoError(t, err)
	require.NoError(t, stream.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{},
	}))
	resp, err := stream.Recv()
	require.NoError(t, err)
	require.NoError(t, stream.CloseSend())

	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	assert.Contains(t, names, stateService)
	assert.Contains(t, names, "grpc.health.v1.Health")
	assert.Contains(t, names, "grpc.reflection.v1.ServerReflection")
}

func TestNewServerTakenPort(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer lis.Close()

	_, err = rpc.NewServer(rpc.ServerConfig{ServiceKeys: keys, Name: "room", Addr: lis.Addr().String(), Logger: quietLogger()})
	require.Error(t, err)
	assert.Contains(t, err.Error(), lis.Addr().String())
	assert.Contains(t, err.Error(), "room")
}

func TestServerPanicBecomesInternal(t *testing.T) {
	type report struct {
		service, method string
		value           any
		stack           []byte
	}
	reports := make(chan report, 1)
	var logs logtest.Buffer
	fake := newFakeState()
	fake.setHandler(func(context.Context, string) error { panic("boom") })
	srv := startServer(t, rpc.ServerConfig{
		Name:   "state",
		Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
		OnPanic: func(service, method string, value any, stack []byte) {
			reports <- report{service, method, value, stack}
		},
	}, fake)
	_, client := dial(t, srv, rpc.ClientConfig{})

	_, err := client.GetUser(t.Context(), &pb.GetUserRequest{UserId: "u1"})
	require.Equal(t, codes.Internal, status.Code(err))
	assert.NotContains(t, err.Error(), "boom", "the panic value must not leak to callers")
	assert.Equal(t, "INTERNAL", rpc.Reason(err))

	r := <-reports
	assert.Equal(t, "state", r.service)
	assert.Equal(t, "/"+stateService+"/GetUser", r.method)
	assert.Equal(t, "boom", r.value)
	assert.Contains(t, string(r.stack), "fakeState")
	assert.Contains(t, logs.String(), "boom")

	// The server survives and keeps answering.
	fake.setHandler(nil)
	_, err = client.GetUser(t.Context(), &pb.GetUserRequest{UserId: "u1"})
	require.NoError(t, err)
}

func TestServerRequestLogging(t *testing.T) {
	var logs logtest.Buffer
	fake := newFakeState()
	srv := startServer(t, rpc.ServerConfig{
		Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}, fake)
	_, client := dial(t, srv, rpc.ClientConfig{})

	_, err := client.GetUser(t.Context(), &pb.GetUserRequest{})
	require.NoError(t, err)
	fake.setHandler(func(context.Context, string) error { return status.Error(codes.Internal, "disk on fire") })
	_, err = client.SaveUser(t.Context(), &pb.SaveUserRequest{})
	require.Error(t, err)

	out := logs.String()
	assert.Contains(t, out, `"level":"DEBUG","msg":"grpc call","method":"/`+stateService+`/GetUser","code":"OK"`)
	assert.Contains(t, out, `"level":"WARN","msg":"grpc call","method":"/`+stateService+`/SaveUser","code":"Internal"`)
	assert.Contains(t, out, "disk on fire")
}

func TestServeGracefulStopFallsBackToStop(t *testing.T) {
	fake := newFakeState()
	entered := make(chan struct{})
	release := make(chan struct{})
	defer close(release)
	fake.setHandler(func(ctx context.Context, _ string) error {
		close(entered)
		select { // ignores cancellation on purpose: a stuck handler
		case <-release:
		case <-time.After(10 * time.Second):
		}
		return nil
	})
	srv, err := rpc.NewServer(rpc.ServerConfig{ServiceKeys: keys, StopTimeout: 50 * time.Millisecond, Logger: quietLogger()})
	require.NoError(t, err)
	pb.RegisterStateServiceServer(srv.GRPC(), fake)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()

	_, client := dial(t, srv, rpc.ClientConfig{})
	callErr := make(chan error, 1)
	go func() {
		_, err := client.SaveUser(context.Background(), &pb.SaveUserRequest{})
		callErr <- err
	}()
	<-entered

	start := time.Now()
	cancel()
	require.NoError(t, <-served)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Equal(t, codes.Unavailable, status.Code(<-callErr))
}

func TestServerCloseBeforeServe(t *testing.T) {
	srv, err := rpc.NewServer(rpc.ServerConfig{ServiceKeys: keys, Logger: quietLogger()})
	require.NoError(t, err)
	addr := srv.Addr()
	srv.Close()
	require.NoError(t, srv.Serve(t.Context()))

	// The port is free again.
	lis, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	require.NoError(t, lis.Close())
}

// TestServerReportsFaults: handler errors that are the server's fault reach
// OnError; refusals and panics (reported as panics) do not.
func TestServerReportsFaults(t *testing.T) {
	type fault struct {
		method string
		code   codes.Code
	}
	faults := make(chan fault, 10)
	fake := newFakeState()
	srv := startServer(t, rpc.ServerConfig{
		Name:    "state",
		Logger:  slog.New(slog.DiscardHandler),
		OnPanic: func(string, string, any, []byte) {},
		OnError: func(service, method string, err error) {
			faults <- fault{method, status.Code(err)}
		},
	}, fake)
	_, client := dial(t, srv, rpc.ClientConfig{Retry: rpc.RetryConfig{MaxAttempts: 1}})
	for _, tt := range []struct {
		err      error
		panics   bool
		reported bool
	}{
		{status.Error(codes.Internal, "disk on fire"), false, true},
		{status.Error(codes.DataLoss, "torn write"), false, true},
		{status.Error(codes.NotFound, "no such user"), false, false},
		{status.Error(codes.Unavailable, "redis down"), false, false},
		{nil, true, false},
	} {
		fake.setHandler(func(context.Context, string) error {
			if tt.panics {
				panic("boom")
			}
			return tt.err
		})
		_, _ = client.GetUser(t.Context(), &pb.GetUserRequest{UserId: "u1"})
		select {
		case f := <-faults:
			if !tt.reported {
				t.Fatalf("%v (panic %v) reported as a fault: %v", tt.err, tt.panics, f)
			}
			assert.Equal(t, "/"+stateService+"/GetUser", f.method)
			assert.Equal(t, status.Code(tt.err), f.code)
		default:
			if tt.reported {
				t.Fatalf("%v not reported", tt.err)
			}
		}
	}
}
