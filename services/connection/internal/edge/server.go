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
	"github.com/pianorhythm/server/services/connection/internal/closecode"
	"github.com/pianorhythm/server/services/connection/internal/codec"
	"github.com/pianorhythm/server/services/connection/internal/fanout"
	"github.com/pianorhythm/server/services/connection/internal/pubsub"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
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
	// OriginPatterns are the cross-origin hosts allowed to open /ws (see
	// websocket.AcceptOptions); same-origin is always allowed.
	OriginPatterns []string
}

// Deps are the edge's collaborators.
type Deps struct {
	// System runs the edge's actors (required); the caller shuts it down
	// after Close.
	System   *actor.System
	Redis    redis.UniversalClient
	Room     pb.RoomServiceClient
	User     pb.UserServiceClient
	Verifier auth.TokenVerifier
	Logger   *slog.Logger
	// Meter records the edge metrics; nil means a no-op meter.
	Meter metric.Meter
	// TracerProvider starts the edge's spans; nil means the otel global
	// provider (as installed by telemetry.Install).
	TracerProvider trace.TracerProvider
}

// Server is the edge of one instance: the ConnectionManager actor, a
// supervisor of connection actors and the RoomFanout hub. It is safe for
// concurrent use; Close ends every connection and waits.
type Server struct {
	cfg     Config
	deps    Deps
	log     *slog.Logger
	hub     *fanout.Hub
	sub     *pubsub.Subscriber
	pub     *publisher
	mgr     *actor.Ref
	conns   *actor.Supervisor
	metrics *metrics
	tracer  trace.Tracer

	mu      sync.Mutex
	closing bool
	wg      sync.WaitGroup
}

// New starts the edge's actors (ConnectionManager, the "connections"
// supervisor, the RoomFanout hub), its Redis subscription and publisher.
func New(cfg Config, deps Deps) (*Server, error) {
	if deps.System == nil {
		return nil, errors.New("edge: System is required")
	}
	tp := deps.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	s := &Server{
		cfg: cfg, deps: deps, log: deps.Logger,
		pub:     newPublisher(deps.Redis, deps.Logger),
		metrics: newMetrics(deps.Meter),
		tracer:  tp.Tracer(tracerName),
	}
	var err error
	if s.hub, err = fanout.NewHub(deps.System, fanout.Config{}); err != nil {
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
	s.sub = pubsub.NewSubscriber(context.Background(), deps.Redis, s.onRedis)
	return s, nil
}

// ServeHTTP accepts a WebSocket connection on /ws and serves it until it
// ends.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	closing := s.closing
	if !closing {
		s.wg.Add(1)
	}
	s.mu.Unlock()
	if closing {
		http.Error(w, "server closing", http.StatusServiceUnavailable)
		return
	}
	defer s.wg.Done()

	token := auth.BearerToken(r.Header.Get("Authorization"))
	if token == "" {
		token = r.URL.Query().Get("token")
	}
	// Authenticate before the upgrade so a bad token is a plain 401.
	sess, err := s.authenticate(r.Context(), token)
	if err != nil {
		status := http.StatusServiceUnavailable
		if errors.Is(err, errBadToken) {
			status = http.StatusUnauthorized
		}
		http.Error(w, err.Error(), status)
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
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
	if until := sess.user.GetBannedUntil(); until != nil && until.AsTime().After(time.Now()) {
		ws.Close(closecode.Banned.Code, closecode.Banned.Reason)
		return
	}
	c := newConn(s, ws, format, sess, r.RemoteAddr)
	if err := c.spawn(); err != nil {
		ws.Close(closecode.ServerClosing.Code, closecode.ServerClosing.Reason)
		return
	}
	if _, err := s.ask(r.Context(), NewConnection{Conn: c}); err != nil {
		c.fail(closecode.ServerClosing) // run still greets, cleans up and closes
	}
	defer s.mgr.Tell(context.Background(), ConnectionClosed{ConnectionID: c.id})
	c.run()
}

type session struct {
	id         auth.Identity
	user       *pb.User
	guestToken string
}

var errBadToken = errors.New("invalid token")

func (s *Server) authenticate(ctx context.Context, token string) (session, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.CallTimeout)
	defer cancel()
	if token == "" {
		res, err := s.deps.User.CreateGuest(ctx, &pb.CreateGuestRequest{})
		if err != nil {
			return session{}, fmt.Errorf("create guest: %w", err)
		}
		u := res.GetUser()
		id := auth.Identity{UserID: u.GetId(), DisplayName: u.GetDisplayName(), Roles: u.GetRoles(), Guest: true}
		return session{id: id, user: u, guestToken: res.GetAccessToken()}, nil
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
	return session{id: id, user: u}, nil
}

// Connections lists the local connections, optionally only those in roomID
// or of userID.
func (s *Server) Connections(ctx context.Context, roomID, userID string) ([]*pb.Connection, error) {
	v, err := s.ask(ctx, ListConnections{RoomID: roomID, UserID: userID})
	if err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	out, _ := v.([]*pb.Connection)
	return out, nil
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
	stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err = errors.Join(err, s.hub.Close(stop))
	s.pub.close()
	err = errors.Join(err, s.sub.Close(), s.conns.Stop(stop), s.mgr.Stop(stop))
	return err
}

func newID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func now() *timestamppb.Timestamp { return timestamppb.Now() }
