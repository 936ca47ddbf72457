package usersvc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/rpc"
	"github.com/pianorhythm/server/pkg/store/storetest"
	"github.com/pianorhythm/server/services/state/statesvc"
	"github.com/pianorhythm/server/services/user/usersvc"
	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
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
// over the real state service (Redis embedded or REDIS_URL, MongoDB
// embedded or MONGODB_URI), both on the test's clock.
type env struct {
	t      testing.TB
	clock  *clock
	state  *stateHarness
	svc    *usersvc.Service
	client pb.UserServiceClient
	rest   *httptest.Server
	http   *http.Client
}

// cheap makes password hashing fast in tests; BenchmarkLogin uses the
// defaults.
var cheap = usersvc.PasswordConfig{Time: 1, MemoryKiB: 1024, Threads: 1}

// serviceKeys sign and check the calls of the package's tests.
var serviceKeys = auth.NewServiceKeys()

// serve serves register's service on a loopback port with the real server
// bootstrap (service credentials, tokens verified by tokens), and returns
// a connection whose calls carry the credential.
func serve(t testing.TB, register func(*grpc.Server), tokens auth.TokenVerifier) *grpc.ClientConn {
	t.Helper()
	srv, err := rpc.NewServer(rpc.ServerConfig{Logger: slog.New(slog.DiscardHandler), ServiceKeys: serviceKeys, Tokens: tokens})
	if err != nil {
		t.Fatal(err)
	}
	register(srv.GRPC())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ctx) }()
	conn, err := grpc.NewClient(srv.Addr(), append(rpc.WithServiceCredentials(serviceKeys, "edge"),
		grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(); cancel(); <-done })
	return conn
}

func newEnv(t testing.TB, cfg usersvc.Config) *env {
	t.Helper()
	e := &env{t: t, clock: newClock()}
	e.state = startState(t, e.clock)
	e.start(cfg, e.state)
	return e
}

// stateHarness is the real state service of one test, and what it
// published on users' channels.
type stateHarness struct {
	pb.StateServiceClient
	t      testing.TB
	rdb    *redis.Client
	prefix string

	mu     sync.Mutex
	evs    []*pb.UserEvent
	marks  map[string]bool
	subs   []chan *pb.UserEvent
	nextMk int
}

func startState(t testing.TB, clk *clock) *stateHarness {
	t.Helper()
	h := &stateHarness{t: t, rdb: storetest.Redis(t), prefix: storetest.Prefix(t), marks: map[string]bool{}}
	st, err := statesvc.New(statesvc.Config{KeyPrefix: h.prefix, Now: clk.Now}, statesvc.Deps{Redis: h.rdb, Mongo: storetest.Mongo(t)})
	if err != nil {
		t.Fatal(err)
	}
	h.StateServiceClient = pb.NewStateServiceClient(serve(t, st.Register, nil))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := st.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	ps := h.rdb.PSubscribe(context.Background(), h.prefix+"user:*")
	if _, err := ps.Receive(context.Background()); err != nil { // the subscription confirmation
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m := range ps.Channel() {
			h.record(m.Payload)
		}
	}()
	t.Cleanup(func() { ps.Close(); <-done })
	return h
}

const markPrefix = "test-mark:"

func (h *stateHarness) record(payload string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if strings.HasPrefix(payload, markPrefix) {
		h.marks[payload] = true
		return
	}
	ev := new(pb.UserEvent)
	if proto.Unmarshal([]byte(payload), ev) != nil {
		return
	}
	h.evs = append(h.evs, ev)
	for _, c := range h.subs {
		select {
		case c <- ev:
		default:
		}
	}
}

// Events returns every user event published so far: it publishes a mark
// after them and waits for it, since Redis delivers to a subscriber in the
// order it published.
func (h *stateHarness) Events() []*pb.UserEvent {
	h.t.Helper()
	h.mu.Lock()
	h.nextMk++
	mark := fmt.Sprint(markPrefix, h.nextMk)
	h.mu.Unlock()
	if err := h.rdb.Publish(context.Background(), h.prefix+"user:~marks", mark).Err(); err != nil {
		h.t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		h.mu.Lock()
		ok := h.marks[mark]
		out := append([]*pb.UserEvent(nil), h.evs...)
		h.mu.Unlock()
		if ok {
			return out
		}
		if time.Now().After(deadline) {
			h.t.Fatal("user events: mark never arrived")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Subscribe returns the user events published from now on.
func (h *stateHarness) Subscribe() <-chan *pb.UserEvent {
	c := make(chan *pb.UserEvent, 64)
	h.mu.Lock()
	h.subs = append(h.subs, c)
	h.mu.Unlock()
	return c
}

// SetRoom seats user in room, as a join through the room service does.
func (h *stateHarness) SetRoom(user, room string) {
	h.t.Helper()
	ctx := context.Background()
	if _, err := h.SaveRoom(ctx, &pb.SaveRoomRequest{Room: &pb.Room{Id: room}, CreateOnly: true}); err != nil && status.Code(err) != codes.AlreadyExists {
		h.t.Fatal(err)
	}
	if _, err := h.AddUserToRoom(ctx, &pb.AddUserToRoomRequest{RoomId: room, Member: &pb.Member{User: &pb.User{Id: user}, ConnectionId: "c1"}}); err != nil {
		h.t.Fatal(err)
	}
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
	conn := serve(t, svc.Register, svc.Verifier())
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
