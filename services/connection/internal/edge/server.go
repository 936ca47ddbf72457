package edge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/services/connection/internal/closecode"
	"github.com/pianorhythm/server/services/connection/internal/codec"
	"github.com/pianorhythm/server/services/connection/internal/fanout"
	"github.com/pianorhythm/server/services/connection/internal/pubsub"
	"github.com/redis/go-redis/v9"
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
	Redis    redis.UniversalClient
	Room     pb.RoomServiceClient
	User     pb.UserServiceClient
	Verifier auth.TokenVerifier
	Logger   *slog.Logger
}

// Server is the ConnectionManager of one instance. It is safe for
// concurrent use; Close ends every connection and waits.
type Server struct {
	cfg  Config
	deps Deps
	log  *slog.Logger
	hub  *fanout.Hub
	sub  *pubsub.Subscriber
	pub  *publisher

	mu      sync.Mutex
	conns   map[string]*conn
	byUser  map[string]map[string]*conn
	closing bool
	wg      sync.WaitGroup
}

// New starts the edge's Redis subscription, fan-out hub and publisher.
func New(cfg Config, deps Deps) *Server {
	s := &Server{
		cfg: cfg, deps: deps, log: deps.Logger,
		hub:    fanout.NewHub(0),
		pub:    newPublisher(deps.Redis, deps.Logger),
		conns:  make(map[string]*conn),
		byUser: make(map[string]map[string]*conn),
	}
	s.sub = pubsub.NewSubscriber(context.Background(), deps.Redis, s.onRedis)
	return s
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
	s.register(c)
	defer s.unregister(c)
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
	return session{id: id, user: u}, nil
}

func (s *Server) register(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conns[c.id] = c
	if s.byUser[c.ident.UserID] == nil {
		s.byUser[c.ident.UserID] = make(map[string]*conn)
	}
	s.byUser[c.ident.UserID][c.id] = c
}

func (s *Server) unregister(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c.id)
	if m := s.byUser[c.ident.UserID]; m != nil {
		delete(m, c.id)
		if len(m) == 0 {
			delete(s.byUser, c.ident.UserID)
		}
	}
}

// userConns returns the local connections of a user.
func (s *Server) userConns(userID string) []*conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*conn, 0, len(s.byUser[userID]))
	for _, c := range s.byUser[userID] {
		out = append(out, c)
	}
	return out
}

func (s *Server) conn(id string) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns[id]
}

// Connections lists the local connections, optionally only those in roomID
// or of userID.
func (s *Server) Connections(roomID, userID string) []*pb.Connection {
	s.mu.Lock()
	all := make([]*conn, 0, len(s.conns))
	for _, c := range s.conns {
		all = append(all, c)
	}
	s.mu.Unlock()
	var out []*pb.Connection
	for _, c := range all {
		if c.ctx.Err() != nil {
			continue // closing
		}
		info := c.info()
		if (roomID == "" || info.GetRoomId() == roomID) && (userID == "" || info.GetUserId() == userID) {
			out = append(out, info)
		}
	}
	return out
}

// CloseConnections closes the connection connID, or every connection of
// userID, with reason; it returns how many it closed.
func (s *Server) CloseConnections(connID, userID string, reason closecode.Error) int {
	var targets []*conn
	if connID != "" {
		if c := s.conn(connID); c != nil {
			targets = append(targets, c)
		}
	} else if userID != "" {
		targets = s.userConns(userID)
	}
	for _, c := range targets {
		c.fail(reason)
	}
	return len(targets)
}

// Rooms returns the rooms with members on this instance.
func (s *Server) Rooms() []string { return s.hub.Rooms() }

// Close refuses new connections, closes every open one with 4000 and waits
// for them (and their cleanup) until ctx ends, then stops the hub, the
// subscription and the publisher.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	all := make([]*conn, 0, len(s.conns))
	for _, c := range s.conns {
		all = append(all, c)
	}
	s.mu.Unlock()
	for _, c := range all {
		c.fail(closecode.ServerClosing)
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		// Cut what is left: the handshakes of unresponsive clients.
		for _, c := range all {
			c.ws.CloseNow()
		}
		<-done
		err = fmt.Errorf("close connections: %w", ctx.Err())
	}
	s.hub.Close()
	s.pub.close()
	return errors.Join(err, s.sub.Close())
}

func newID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func now() *timestamppb.Timestamp { return timestamppb.Now() }
