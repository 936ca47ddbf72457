package edge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/track"
	"github.com/pianorhythm/server/services/connection/internal/clientip"
	"github.com/pianorhythm/server/services/connection/internal/closecode"
	"github.com/pianorhythm/server/services/connection/internal/codec"
	"github.com/pianorhythm/server/services/connection/internal/fanout"
	"github.com/pianorhythm/server/services/connection/internal/pubsub"
	"github.com/pianorhythm/server/services/connection/internal/roomwatch"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Config is the edge's configuration; connsvc fills every field.
type Config struct {
	InstanceID     string
	KeyPrefix      string
	PingInterval   time.Duration
	IdleTimeout    time.Duration
	SlowTimeout    time.Duration
	QuotaRefill    time.Duration
	CallTimeout    time.Duration
	SendQueueBytes int
	MaxFrameBytes  int
	// JoinsPerSecond is the join rate limit of one connection.
	JoinsPerSecond int
	// MaxArriving connections are signed in at once (at least 1); the
	// others wait up to ArrivalWait for their turn (see arrive). As many
	// closed connections are signed out at once, the others waiting as
	// long as it takes (see depart).
	MaxArriving int
	ArrivalWait time.Duration
	// OriginPatterns are the cross-origin hosts allowed to open /ws (see
	// websocket.AcceptOptions); same-origin is always allowed.
	OriginPatterns []string
	// ClientIP finds a connection's client address (trusted proxies).
	ClientIP clientip.Resolver
	// HeartbeatTTL is the TTL of the instance heartbeat, refreshed every
	// third of it.
	HeartbeatTTL time.Duration
	// RedisCheckInterval is how often Redis is pinged to know whether it
	// answers.
	RedisCheckInterval time.Duration
	// CursorsPerSecond and CursorBurst limit the cursor positions one
	// connection relays; over them positions are dropped silently.
	CursorsPerSecond float64
	CursorBurst      int
	// RoomListInterval is how often the room list is polled while a
	// connection watches it (watchRooms, MPP's +ls).
	RoomListInterval time.Duration
	// MPPMOTD is the message of the day of /mpp's hi; empty means
	// mpp.DefaultMOTD.
	MPPMOTD string
}

// Deps are the edge's collaborators.
type Deps struct {
	// System runs the edge's actors (required); the caller shuts it down
	// after Close.
	System   *actor.System
	Redis    redis.UniversalClient
	Room     pb.RoomServiceClient
	User     pb.UserServiceClient
	State    pb.StateServiceClient
	Verifier auth.TokenVerifier
	Logger   *slog.Logger
	// Meter records the edge metrics; nil means a no-op meter.
	Meter metric.Meter
	// TracerProvider starts the edge's spans; nil means the otel global
	// provider (as installed by telemetry.Install).
	TracerProvider trace.TracerProvider
	// Events receives the edge's analytics events (notes counted per
	// connection, connections opened and closed); nil drops them. The
	// caller closes it after Close.
	Events track.Sink
}

// Server is the edge of one instance: the ConnectionManager actor, a
// supervisor of connection actors, the RoomFanout hub, the Redis
// subscription, publisher and watcher, and the instance's registration
// (instance.go). It is safe for concurrent use; Close ends every connection
// and waits.
type Server struct {
	cfg     Config
	deps    Deps
	log     *slog.Logger
	hub     *fanout.Hub
	sub     *pubsub.Subscriber
	pub     *publisher
	redis   *pubsub.Watcher
	mgr     *actor.Ref
	conns   *actor.Supervisor
	metrics *metrics
	tracer  trace.Tracer
	events  track.Sink
	notes   *track.Notes
	rooms   *roomwatch.Watcher
	// beatNow asks the instance loop for a heartbeat at once.
	beatNow chan struct{}
	// arriving holds a token per connection being signed in, departing
	// one per closed connection being signed out.
	arriving, departing chan struct{}

	mu      sync.Mutex
	closing bool
	wg      sync.WaitGroup

	cancel context.CancelFunc
	bg     sync.WaitGroup // the instance loop
}

// New starts the edge's actors (ConnectionManager, the "connections"
// supervisor, the RoomFanout hub), its Redis subscription, publisher and
// watcher, and the instance heartbeat.
func New(cfg Config, deps Deps) (*Server, error) {
	if deps.System == nil || deps.State == nil {
		return nil, errors.New("edge: System and State are required")
	}
	tp := deps.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	s := &Server{
		cfg: cfg, deps: deps, log: deps.Logger,
		metrics:   newMetrics(deps.Meter),
		tracer:    tp.Tracer(tracerName),
		beatNow:   make(chan struct{}, 1),
		arriving:  make(chan struct{}, max(cfg.MaxArriving, 1)),
		departing: make(chan struct{}, max(cfg.MaxArriving, 1)),
		events:    deps.Events,
	}
	if s.events == nil {
		s.events = discard{}
	}
	var err error
	if s.hub, err = fanout.NewHub(deps.System, fanout.Config{Logger: deps.Logger}); err != nil {
		return nil, err
	}
	// A connection actor that panics is restarted only to close its
	// connection (1011), so failures never escalate: the intensity is
	// effectively unlimited, and one client's bug never restarts others.
	s.conns, err = deps.System.SpawnSupervisor(actor.SupervisorProps{
		Name: "connections", Strategy: actor.OneForOne, MaxRestarts: math.MaxInt32, Within: time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("start connections supervisor: %w", err)
	}
	if s.mgr, err = spawnManager(deps.System, newRegistry()); err != nil {
		return nil, fmt.Errorf("start connection manager: %w", err)
	}
	s.notes = track.NewNotes(s.events, track.NotesConfig{})
	s.rooms = roomwatch.New(roomwatch.Config{Interval: cfg.RoomListInterval, Logger: deps.Logger}, s.listRooms)
	s.redis = pubsub.NewWatcher(deps.Redis, pubsub.WatcherConfig{Interval: cfg.RedisCheckInterval, OnChange: s.redisChanged})
	s.pub = newPublisher(deps.Redis, s.redis.Up, deps.Logger, s.metrics.publishFailed, s.metrics.publishDropped)
	s.sub = pubsub.NewSubscriber(context.Background(), deps.Redis, s.onRedis, pubsub.SubscriberConfig{Healthy: s.redis.Up})
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.bg.Go(func() { s.serveInstance(ctx) })
	return s, nil
}

// redisChanged runs on the watcher's goroutine when Redis stops or starts
// answering. Local play does not depend on it; what needs Redis is
// refused meanwhile (joins answer UNAVAILABLE). When it is back, perhaps
// empty, the subscriptions are sent again and the instance beats at once,
// so a state service that lost the instance hears from it now.
func (s *Server) redisChanged(up bool) {
	if !up {
		s.log.Warn("redis does not answer: joins refused, notes stay local until it is back")
		return
	}
	s.log.Info("redis answers again: restoring subscriptions and the instance's registration")
	s.sub.Resubscribe()
	select {
	case s.beatNow <- struct{}{}:
	default:
	}
}

// discard is the sink of an edge without analytics.
type discard struct{}

func (discard) Emit(context.Context, *pb.Event) {}

// enter counts a request in (Close waits for it); false: the server is
// closing and the request was answered 503.
func (s *Server) enter(w http.ResponseWriter) bool {
	s.mu.Lock()
	closing := s.closing
	if !closing {
		s.wg.Add(1)
	}
	s.mu.Unlock()
	if closing {
		http.Error(w, "server closing", http.StatusServiceUnavailable)
	}
	return !closing
}

// peerOf is where a request comes from, as the edge trusts it.
func (s *Server) peerOf(r *http.Request) peer {
	from := peer{addr: r.RemoteAddr}
	if ip, forwarded := s.cfg.ClientIP.Of(r); ip.IsValid() {
		from.ip = ip.String()
		if forwarded {
			from.addr = from.ip
		}
	}
	return from
}

// ServeHTTP accepts a WebSocket connection on /ws and hands it to a
// goroutine that serves it until it ends.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.enter(w) {
		return
	}
	handedOff := false
	defer s.leave(&handedOff)

	token := auth.BearerToken(r.Header.Get("Authorization"))
	if token == "" {
		token = r.URL.Query().Get("token")
	}
	from := s.peerOf(r)
	// Authenticate before the upgrade so a bad token is a plain 401.
	sess, err := s.authenticate(r.Context(), token, from.ip)
	if err != nil {
		status := http.StatusServiceUnavailable
		switch {
		case errors.Is(err, errBadToken):
			status = http.StatusUnauthorized
		case errors.Is(err, errBusy):
			w.Header().Set("Retry-After", "1")
		}
		http.Error(w, err.Error(), status)
		return
	}
	cw := &corkWriter{ResponseWriter: w}
	ws, err := websocket.Accept(cw, r, &websocket.AcceptOptions{
		Subprotocols:   codec.Subprotocols,
		OriginPatterns: s.cfg.OriginPatterns,
	})
	if err != nil {
		return // Accept has answered the request.
	}
	// No subprotocol: JSON, the friendlier format for hand-written clients.
	format, ok := codec.FromSubprotocol(ws.Subprotocol())
	if !ok {
		format = codec.JSON
	}
	ws.SetReadLimit(int64(s.cfg.MaxFrameBytes))
	c := newConn(s, ws, cw.conn, format, from)
	c.admit(sess)
	// This goroutine's stack grew signing the user in (gRPC, telemetry)
	// and would stay that size under the read loop for the connection's
	// life: a fresh goroutine serves it, and the handler returns (the
	// socket is hijacked, the server is done with it).
	handedOff = true
	go c.run(s.wg.Done)
}

// leave ends a request that enter let in, unless it handed its count to
// the connection it made, whose run calls Done when it is over.
func (s *Server) leave(handedOff *bool) {
	if !*handedOff {
		s.wg.Done()
	}
}

var (
	errBadToken = errors.New("invalid token")
	errBusy     = errors.New("server busy: too many connections arriving, try again in a moment")
)

// arrive waits for a turn to sign a new connection in (at most
// ArrivalWait) and returns its release. With every turn taken the
// services are as busy as arrivals make them: calls made beyond that
// would only wait in their queues until their deadlines refused them, so
// a crowd arriving at once would lock most of itself out.
func (s *Server) arrive(ctx context.Context) (release func(), err error) {
	release = func() { <-s.arriving }
	select {
	case s.arriving <- struct{}{}:
		return release, nil
	default:
	}
	t := time.NewTimer(s.cfg.ArrivalWait)
	defer t.Stop()
	select {
	case s.arriving <- struct{}{}:
		return release, nil
	case <-t.C:
		s.metrics.arrivalsRefused.Add(ctx, 1)
		return nil, errBusy
	case <-ctx.Done():
		return nil, fmt.Errorf("wait to sign in: %w", ctx.Err())
	}
}

// depart waits for a turn to sign a closed connection out (leave its
// room, go offline), however long that takes, and returns its release:
// a crowd leaving at once (an edge restarting, a client's network gone)
// would otherwise overrun the services' deadlines, and a leave lost to a
// deadline is a seat the room keeps showing with no one in it.
func (s *Server) depart() (release func()) {
	s.departing <- struct{}{}
	return func() { <-s.departing }
}

// authenticate makes the session of a new connection: a guest without a
// token, else the token's user with the profile of the user service.
func (s *Server) authenticate(ctx context.Context, token, clientIP string) (session, error) {
	release, err := s.arrive(ctx)
	if err != nil {
		return session{}, err
	}
	defer release()
	ctx, cancel := context.WithTimeout(ctx, s.cfg.CallTimeout)
	defer cancel()
	if clientIP != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "x-forwarded-for", clientIP)
	}
	if token == "" {
		// Access only: the connection's guest lives as long as the
		// connection, and a refresh token per arrival was a state call
		// and a Redis key each (issue 16).
		res, err := s.deps.User.CreateGuest(ctx, &pb.CreateGuestRequest{AccessOnly: true})
		if err != nil {
			return session{}, fmt.Errorf("create guest: %w", err)
		}
		u := res.GetUser()
		id := auth.Identity{UserID: u.GetId(), DisplayName: u.GetDisplayName(), Roles: u.GetRoles(), Guest: true}
		return session{ident: id, user: u, guestToken: res.GetAccessToken()}, nil
	}
	id, err := s.deps.Verifier.Verify(ctx, token)
	if err != nil {
		return session{}, fmt.Errorf("%w: %v", errBadToken, err)
	}
	// The profile (and ban) from the user service; the token's claims when
	// the user service does not know the user (guests of another replica).
	u, err := s.deps.User.GetUser(auth.OutgoingContext(ctx, id), &pb.GetUserProfileRequest{UserId: id.UserID})
	if err != nil {
		u = &pb.User{Id: id.UserID, DisplayName: id.DisplayName, Roles: id.Roles, Guest: id.Guest}
	}
	// The profile is fresher than the token: a rename or a granted role
	// since the token was issued must show in the rooms this connection
	// joins.
	id.DisplayName = u.GetDisplayName()
	if len(u.GetRoles()) > 0 {
		id.Roles = u.GetRoles()
	}
	return session{ident: id, user: u}, nil
}

// Connections lists the local connections, optionally only those in roomID
// or of userID. Each connection's actor describes itself; one that does
// not answer in time (it is closing) is left out.
func (s *Server) Connections(ctx context.Context, roomID, userID string) ([]*pb.Connection, error) {
	conns, err := s.list(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	var out []*pb.Connection
	for _, c := range conns {
		info, err := askConn[*pb.Connection](ctx, s, c, infoQuery{})
		if err == nil && (roomID == "" || info.GetRoomId() == roomID) {
			out = append(out, info)
		}
	}
	return out, nil
}

// list returns the open connections, optionally only those of userID.
func (s *Server) list(ctx context.Context, userID string) ([]*conn, error) {
	v, err := s.ask(ctx, ListConnections{UserID: userID})
	if err != nil {
		return nil, err
	}
	out, _ := v.([]*conn)
	return out, nil
}

// askConn asks c's actor a question about its session, bounded by the
// call timeout when ctx has no deadline.
func askConn[T any](ctx context.Context, s *Server, c *conn, q any) (T, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.CallTimeout)
		defer cancel()
	}
	return actor.Ask[T](ctx, c.ref, q)
}

// CloseConnections closes the connection connID, or every connection of
// userID, with reason; it returns how many it closed.
func (s *Server) CloseConnections(ctx context.Context, connID, userID string, reason closecode.Error) (int, error) {
	v, err := s.ask(ctx, CloseConnections{ConnectionID: connID, UserID: userID, Reason: reason})
	if err != nil {
		return 0, fmt.Errorf("close connections: %w", err)
	}
	n, _ := v.(int)
	return n, nil
}

// Send delivers m to the local connection connID; false means it is not
// here.
func (s *Server) Send(ctx context.Context, connID string, m *pb.ServerMessage) (bool, error) {
	v, err := s.ask(ctx, SendMessage{ConnectionID: connID, Frame: codec.NewFrame(m)})
	if err != nil {
		return false, fmt.Errorf("send message: %w", err)
	}
	ok, _ := v.(bool)
	return ok, nil
}

// listRooms is one page of the public room list (roomwatch's poll), asked
// as the edge.
func (s *Server) listRooms(ctx context.Context, pageToken string) (*pb.ListRoomsResponse, error) {
	ctx, cancel := context.WithTimeout(auth.OutgoingContext(ctx, Identity), s.cfg.CallTimeout)
	defer cancel()
	return s.deps.Room.ListRooms(ctx, &pb.ListRoomsRequest{PageSize: roomwatch.PageSize, PageToken: pageToken})
}

// Rooms returns the rooms with members on this instance.
func (s *Server) Rooms() []string { return s.hub.Rooms() }

// Close refuses new connections, closes every open one with 4000 and waits
// for them (and their cleanup) until ctx ends, then stops the hub, the
// subscription, the publisher and the ConnectionManager.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	v, err := s.mgr.Ask(ctx, closeAll{})
	if err != nil {
		err = fmt.Errorf("close connections: %w", err)
	}
	all, _ := v.([]*conn)
	for _, c := range all {
		c.fail(closecode.ServerClosing)
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		// Cut what is left: the handshakes of unresponsive clients.
		for _, c := range all {
			c.ws.CloseNow()
		}
		<-done
		err = errors.Join(err, fmt.Errorf("close connections: %w", ctx.Err()))
	}
	s.cancel()
	s.bg.Wait()
	s.rooms.Close()
	// Every connection's last count is out (their teardown closed their
	// counters); the caller closes the sink after this.
	err = errors.Join(err, s.notes.Close(ctx))
	stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err = errors.Join(err, s.hub.Close(stop))
	s.pub.close()
	s.redis.Close()
	err = errors.Join(err, s.sub.Close(), s.conns.Stop(stop), s.mgr.Stop(stop))
	return err
}

func newID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func now() *timestamppb.Timestamp { return timestamppb.Now() }
