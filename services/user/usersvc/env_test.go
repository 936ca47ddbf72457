package usersvc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/store/storetest"
	"github.com/pianorhythm/server/services/user/internal/statefake"
	"github.com/pianorhythm/server/services/user/usersvc"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(storetest.Wrap(m)) }

// clock is a settable test clock.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// env is one user service on loopback gRPC, fronted by the REST gateway,
// over a fake state service and a real (embedded by default) MongoDB.
type env struct {
	t      testing.TB
	clock  *clock
	state  *statefake.Server
	svc    *usersvc.Service
	client pb.UserServiceClient
	rest   *httptest.Server
	http   *http.Client
}

// cheap makes password hashing fast in tests; BenchmarkLogin uses the
// defaults.
var cheap = usersvc.PasswordConfig{Time: 1, MemoryKiB: 1024, Threads: 1}

func serve(t testing.TB, register func(*grpc.Server), opts ...grpc.ServerOption) *grpc.ClientConn {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(opts...)
	register(gs)
	done := make(chan struct{})
	go func() { defer close(done); _ = gs.Serve(lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(); gs.Stop(); <-done })
	return conn
}

func newEnv(t testing.TB, cfg usersvc.Config) *env {
	t.Helper()
	e := &env{t: t, clock: newClock()}
	e.state = statefake.New(e.clock.Now)
	stateConn := serve(t, func(gs *grpc.Server) { pb.RegisterStateServiceServer(gs, e.state) })
	e.start(cfg, pb.NewStateServiceClient(stateConn))
	return e
}

// start runs the user service over state, its gRPC server and the REST
// gateway in front of it.
func (e *env) start(cfg usersvc.Config, state pb.StateServiceClient) {
	t := e.t
	t.Helper()
	if cfg.Password == (usersvc.PasswordConfig{}) {
		cfg.Password = cheap
	}
	httpClient := &http.Client{Timeout: 10 * time.Second}
	t.Cleanup(httpClient.CloseIdleConnections)
	svc, err := usersvc.New(cfg, usersvc.Deps{State: state, Mongo: storetest.Mongo(t), Clock: e.clock.Now, HTTPClient: httpClient})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	conn := serve(t, svc.Register, grpc.ChainUnaryInterceptor(svc.UnaryInterceptor()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := svc.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	e.client = pb.NewUserServiceClient(conn)
	mux := runtime.NewServeMux()
	if err := pb.RegisterUserServiceHandlerClient(context.Background(), mux, e.client); err != nil {
		t.Fatal(err)
	}
	e.rest = httptest.NewServer(mux)
	t.Cleanup(e.rest.Close)
	e.http = e.rest.Client()
	t.Cleanup(e.http.CloseIdleConnections)
}

// apiError is the gateway's error body.
type apiError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Details []struct {
		Reason string `json:"reason"`
	} `json:"details"`
}

func (a apiError) reason() string {
	for _, d := range a.Details {
		if d.Reason != "" {
			return d.Reason
		}
	}
	return ""
}

// call makes one REST request; body is a proto message or nil; out (a
// proto message) is filled on 2xx. It returns the status code and, on
// errors, the error body.
func (e *env) call(method, path, token string, body proto.Message, out proto.Message) (int, apiError) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := protojson.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.rest.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.http.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var ae apiError
	if resp.StatusCode/100 != 2 {
		_ = json.Unmarshal(b, &ae)
		return resp.StatusCode, ae
	}
	if out != nil {
		if err := protojson.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
	return resp.StatusCode, ae
}

// must is call that fails the test unless the status is 200.
func (e *env) must(method, path, token string, body, out proto.Message) {
	e.t.Helper()
	if code, ae := e.call(method, path, token, body, out); code != http.StatusOK {
		e.t.Fatalf("%s %s = %d %s (%s)", method, path, code, ae.Message, ae.reason())
	}
}

func (e *env) register(username string) *pb.AuthResponse {
	e.t.Helper()
	var resp pb.AuthResponse
	e.must("POST", "/v1/auth/register", "", &pb.RegisterRequest{Username: username, Password: "password-" + username}, &resp)
	return &resp
}

func durationOf(d time.Duration) *durationpb.Duration { return durationpb.New(d) }
