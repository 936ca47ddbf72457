package e2e

import (
	"context"
	"errors"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/rpc"
	"github.com/pianorhythm/server/pkg/store/storetest"
	"github.com/pianorhythm/server/pkg/track"
	"github.com/pianorhythm/server/services/connection/connsvc"
	"github.com/pianorhythm/server/services/connection/internal/codec"
	"github.com/pianorhythm/server/services/room/roomsvc"
	"github.com/pianorhythm/server/services/state/statesvc"
	"github.com/pianorhythm/server/services/user/usersvc"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

func TestMain(m *testing.M) { os.Exit(storetest.Wrap(m).Run()) }

// serviceKeys sign and check every call between the test's services.
var serviceKeys = auth.NewServiceKeys()

// quiet discards logs; E2E_LOG=1 shows them.
var quiet = func() *slog.Logger {
	if os.Getenv("E2E_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}()

// world is the back end shared by the edges of one test: state, user and
// room services over loopback gRPC on one Redis.
type world struct {
	t      testing.TB
	rdb    *redis.Client
	prefix string
	state  *grpc.ClientConn
	user   *grpc.ClientConn
	room   *grpc.ClientConn
	users  *usersvc.Service
	// userSrv is the user service's gRPC server, which a test may stop
	// and start again on the same address.
	userSrv *restartable
	// mongo is the services' MongoDB database.
	mongo *mongo.Database
}

// worldOpts are the optional parts of a world.
type worldOpts struct {
	// rdb is the Redis of every service; nil means storetest.Redis.
	rdb *redis.Client
	// user configures the user service.
	user usersvc.Config
	// stateIcpt and roomIcpt run in the state and room services' gRPC
	// servers, after their own interceptors (to delay or watch calls).
	stateIcpt, roomIcpt grpc.UnaryServerInterceptor
}

func newWorld(t testing.TB) *world { return newWorldWith(t, worldOpts{}) }

func newWorldWith(t testing.TB, o worldOpts) *world {
	t.Helper()
	if o.rdb == nil {
		o.rdb = storetest.Redis(t)
	}
	w := &world{t: t, rdb: o.rdb, prefix: storetest.Prefix(t), mongo: storetest.Mongo(t)}
	mongo := w.mongo

	st, err := statesvc.New(statesvc.Config{KeyPrefix: w.prefix}, statesvc.Deps{Redis: w.rdb, Mongo: mongo, Logger: quiet})
	if err != nil {
		t.Fatalf("state: %v", err)
	}
	w.state = w.serve("state", st.Register, st.Close, nil, o.stateIcpt)

	us, err := usersvc.New(o.user, usersvc.Deps{State: pb.NewStateServiceClient(w.state), Mongo: mongo, Logger: quiet})
	if err != nil {
		t.Fatalf("user: %v", err)
	}
	w.users = us
	w.userSrv = w.serveRestartable("user", us.Register, us.Close, us.Verifier())
	w.user = w.userSrv.conn

	rs, err := roomsvc.New(roomsvc.Config{}, roomsvc.Deps{State: pb.NewStateServiceClient(w.state), Verifier: us.Verifier(), Logger: quiet})
	if err != nil {
		t.Fatalf("room: %v", err)
	}
	w.room = w.serve("room", rs.Register, rs.Close, us.Verifier(), o.roomIcpt)
	return w
}

// serve runs a service on a loopback gRPC server until the test ends and
// returns a client connection to it.
// Its server refuses calls without the test's service credential and
// verifies bearer tokens with tokens, as in production.
func (w *world) serve(name string, register func(*grpc.Server), closeSvc func(context.Context) error, tokens auth.TokenVerifier, icpts ...grpc.UnaryServerInterceptor) *grpc.ClientConn {
	return w.serveRestartable(name, register, closeSvc, tokens, icpts...).conn
}

// restartable is a service's gRPC server that can be stopped (its
// listener closed, like a killed process) and started again on the same
// address; the service behind it keeps running.
type restartable struct {
	t        testing.TB
	name     string
	addr     string
	register func(*grpc.Server)
	tokens   auth.TokenVerifier
	icpts    []grpc.UnaryServerInterceptor
	conn     *grpc.ClientConn
	cancel   context.CancelFunc
	served   chan error
}

func (w *world) serveRestartable(name string, register func(*grpc.Server), closeSvc func(context.Context) error, tokens auth.TokenVerifier, icpts ...grpc.UnaryServerInterceptor) *restartable {
	t := w.t
	r := &restartable{t: t, name: name, addr: "127.0.0.1:0", register: register, tokens: tokens}
	for _, i := range icpts {
		if i != nil {
			r.icpts = append(r.icpts, i)
		}
	}
	r.start()
	conn, err := grpc.NewClient(r.addr, append(rpc.WithServiceCredentials(serviceKeys, "test"), grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		t.Fatalf("dial %s: %v", name, err)
	}
	r.conn = conn
	t.Cleanup(func() {
		conn.Close()
		r.stop()
		ctx, stop := context.WithTimeout(context.Background(), 10*time.Second)
		defer stop()
		if err := closeSvc(ctx); err != nil {
			t.Errorf("close %s: %v", name, err)
		}
	})
	return r
}

// start serves on r.addr (a free port the first time, the same one after).
func (r *restartable) start() {
	r.t.Helper()
	srv, err := rpc.NewServer(rpc.ServerConfig{Name: r.name, Addr: r.addr, Logger: quiet, ServiceKeys: serviceKeys, Tokens: r.tokens, UnaryInterceptors: r.icpts})
	if err != nil {
		r.t.Fatalf("%s server: %v", r.name, err)
	}
	r.addr = srv.Addr()
	r.register(srv.GRPC())
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel, r.served = cancel, make(chan error, 1)
	go func() { r.served <- srv.Serve(ctx) }()
}

// stop stops the server and waits; a no-op when it is stopped.
func (r *restartable) stop() {
	if r.cancel == nil {
		return
	}
	r.cancel()
	<-r.served
	r.cancel = nil
}

// edge is one edge instance serving HTTP on loopback.
type edge struct {
	svc  *connsvc.Service
	http *httptest.Server
	// down makes every call of this instance to the services fail, like
	// a crashed process whose sockets are gone.
	down *atomic.Bool
	// admin calls the instance's ConnectionService.
	admin pb.ConnectionServiceClient
}

// edgeOpts are the optional parts of an edge under test.
type edgeOpts struct {
	meter  metric.Meter
	tracer trace.TracerProvider
	// room wraps the edge's room service client (to hook calls).
	room func(pb.RoomServiceClient) pb.RoomServiceClient
	// events receives the edge's analytics events.
	events track.Sink
	// gateway adds the analytics and monitor services behind /v1 and
	// /readyz.
	analytics, monitor *grpc.ClientConn
}

func (w *world) edge(cfg connsvc.Config) *edge { return w.edgeWith(cfg, edgeOpts{}) }

func (w *world) edgeWith(cfg connsvc.Config, opts edgeOpts) *edge {
	t := w.t
	t.Helper()
	if cfg.KeyPrefix == "" {
		cfg.KeyPrefix = w.prefix
	}
	down := new(atomic.Bool)
	cut := grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if down.Load() {
			return status.Error(codes.Unavailable, "instance is down")
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	})
	dial := func(cc *grpc.ClientConn) *grpc.ClientConn {
		c, err := grpc.NewClient(cc.Target(), append(rpc.WithServiceCredentials(serviceKeys, "edge"), grpc.WithTransportCredentials(insecure.NewCredentials()), cut)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	state, user, room := dial(w.state), dial(w.user), dial(w.room)
	roomClient := pb.NewRoomServiceClient(room)
	if opts.room != nil {
		roomClient = opts.room(roomClient)
	}
	svc, err := connsvc.New(cfg, connsvc.Deps{
		Redis: w.rdb, Room: roomClient, User: pb.NewUserServiceClient(user),
		State: pb.NewStateServiceClient(state), Verifier: w.users.Verifier(),
		Gateway: connsvc.Gateway{User: user, Room: room, State: state, Analytics: opts.analytics, Monitor: opts.monitor},
		Logger:  quiet, Meter: opts.meter, TracerProvider: opts.tracer, Events: opts.events,
	})
	if err != nil {
		t.Fatalf("connsvc.New: %v", err)
	}
	hs := httptest.NewServer(svc.Handler())
	e := &edge{svc: svc, http: hs, down: down}
	t.Cleanup(func() { e.stop() })
	// The admin RPCs, behind the same server bootstrap as in production.
	e.admin = pb.NewConnectionServiceClient(w.serve("connection", svc.Register,
		func(context.Context) error { return nil }, w.users.Verifier()))
	return e
}

func (e *edge) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	e.svc.Close(ctx)
	e.http.Close()
}

func (e *edge) wsURL(query string) string {
	u := "ws" + strings.TrimPrefix(e.http.URL, "http") + "/ws"
	if query != "" {
		u += "?" + query
	}
	return u
}

// client is a test WebSocket client speaking one wire format.
type client struct {
	t       testing.TB
	ws      *websocket.Conn
	format  codec.Format
	welcome *pb.Welcome
	seq     int
	// inbox, after listen, receives every message from a reader
	// goroutine, so that a read may time out without closing the socket
	// (the library closes it when a read's context ends).
	inbox chan inboxed
}

type inboxed struct {
	m   *pb.ServerMessage
	err error
}

// dial connects as a guest (token "") or with a token, and reads welcome.
func (e *edge) dial(t testing.TB, format codec.Format, token string) *client {
	t.Helper()
	return e.dialWith(t, format, token, nil)
}

// dialWith is dial with extra request headers.
func (e *edge) dialWith(t testing.TB, format codec.Format, token string, header http.Header) *client {
	t.Helper()
	opts := &websocket.DialOptions{Subprotocols: []string{format.String()}, HTTPHeader: header}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	query := ""
	if token != "" {
		query = "token=" + token
	}
	ws, _, err := websocket.Dial(ctx, e.wsURL(query), opts)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	ws.SetReadLimit(1 << 20)
	c := &client{t: t, ws: ws, format: format}
	t.Cleanup(func() { ws.CloseNow() })
	m := c.read(5 * time.Second)
	if m.GetWelcome() == nil {
		t.Fatalf("first message %v, want welcome", m)
	}
	c.welcome = m.GetWelcome()
	return c
}

func (c *client) id() string { return c.welcome.GetUser().GetId() }

func (c *client) send(m *pb.ClientMessage) string {
	c.t.Helper()
	if m.Id == "" {
		c.seq++
		m.Id = string(rune('a'+c.seq%26)) + strings.Repeat("x", c.seq/26)
	}
	var b []byte
	var err error
	if c.format == codec.JSON {
		b, err = protojson.Marshal(m)
	} else {
		b, err = proto.Marshal(m)
	}
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendRaw(b)
	return m.Id
}

func (c *client) sendRaw(b []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, c.format.MessageType(), b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// read returns the next message, failing the test on timeout or close.
func (c *client) read(timeout time.Duration) *pb.ServerMessage {
	c.t.Helper()
	m, err := c.tryRead(timeout)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return m
}

// listen switches c to a reader goroutine (ended by the socket's close at
// cleanup): reads that time out leave the connection open.
func (c *client) listen() {
	c.inbox = make(chan inboxed, 4096)
	go func() {
		for {
			m, err := c.readNow(context.Background())
			c.inbox <- inboxed{m, err}
			if err != nil {
				return
			}
		}
	}()
}

// errNoMessage is tryRead's timeout after listen.
var errNoMessage = errors.New("no message in time")

func (c *client) tryRead(timeout time.Duration) (*pb.ServerMessage, error) {
	if c.inbox != nil {
		select {
		case in := <-c.inbox:
			if in.err != nil {
				c.inbox <- in // the socket stays failed
			}
			return in.m, in.err
		case <-time.After(timeout):
			return nil, errNoMessage
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return c.readNow(ctx)
}

func (c *client) readNow(ctx context.Context) (*pb.ServerMessage, error) {
	_, b, err := c.ws.Read(ctx)
	if err != nil {
		return nil, err
	}
	m := new(pb.ServerMessage)
	if c.format == codec.JSON {
		err = protojson.Unmarshal(b, m)
	} else {
		err = proto.Unmarshal(b, m)
	}
	return m, err
}

// await reads until a message matches, skipping others.
func (c *client) await(what string, timeout time.Duration, match func(*pb.ServerMessage) bool) *pb.ServerMessage {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			c.t.Fatalf("timed out waiting for %s", what)
		}
		m, err := c.tryRead(left)
		if err != nil {
			c.t.Fatalf("waiting for %s: %v", what, err)
		}
		if match(m) {
			return m
		}
	}
}

// reply waits for the answer to request id.
func (c *client) reply(id string) *pb.ServerMessage {
	c.t.Helper()
	return c.await("reply "+id, 10*time.Second, func(m *pb.ServerMessage) bool { return m.GetId() == id })
}

// join joins room and returns roomJoined, failing on an error reply.
func (c *client) join(room string, create bool) *pb.RoomJoined {
	c.t.Helper()
	m := c.reply(c.send(&pb.ClientMessage{Payload: &pb.ClientMessage_Join{Join: &pb.Join{Room: room, Create: create}}}))
	if m.GetRoomJoined() == nil {
		c.t.Fatalf("join %s: %v", room, m)
	}
	return m.GetRoomJoined()
}

// closeCode reads until the server closes and returns the close code.
func (c *client) closeCode(timeout time.Duration) websocket.StatusCode {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		_, _, err := c.ws.Read(ctx)
		cancel()
		if err != nil {
			return websocket.CloseStatus(err)
		}
	}
	c.t.Fatal("connection not closed in time")
	return 0
}

func notes(n int) *pb.ClientMessage {
	evs := make([]*pb.NoteEvent, n)
	for i := range evs {
		evs[i] = &pb.NoteEvent{Kind: pb.NoteKind_NOTE_ON, Note: uint32(60 + i%12), Velocity: 90}
	}
	return &pb.ClientMessage{Payload: &pb.ClientMessage_Notes{Notes: &pb.NoteBatch{Time: time.Now().UnixMilli(), Events: evs}}}
}
