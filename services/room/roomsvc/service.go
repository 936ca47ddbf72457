package roomsvc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"google.golang.org/grpc"

	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/services/room/internal/room"
)

// Service is the running room service. Its methods are safe for concurrent
// use; Close stops every Room actor.
type Service struct {
	sys    *actor.System
	mgr    *room.Manager
	server *room.Server
	auth   auth.TokenVerifier
}

// New starts the room service: its actor system and the RoomManager. It
// makes sure the lobby exists, so the state service must be reachable, and
// arms the removal of rooms a previous run left empty.
func New(cfg Config, deps Deps) (*Service, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("room service config: %w", err)
	}
	if deps.State == nil {
		return nil, errors.New("room service: Deps.State is required")
	}
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var events room.Events
	if deps.Events != nil {
		events = deps.Events
	}
	sys := actor.NewSystem(actor.Config{Logger: log, Meter: deps.Meter, OnPanic: deps.OnPanic, OnGiveUp: deps.OnGiveUp})
	mgr, err := room.NewManager(sys, room.Options{
		EmptyRoomGrace: cfg.EmptyRoomGrace,
		OwnerSeatHold:  cfg.OwnerSeatHold,
		LobbyCapacity:  cfg.LobbyCapacity,
		RoomCapacity:   cfg.RoomCapacity,
		LargeCapacity:  cfg.MaxRoomCapacity,
		ChatLimit:      cfg.ChatLimit,
		OwnerChatLimit: cfg.OwnerChatLimit,
		ChatWindow:     cfg.ChatWindow,

		PasswordPause: cfg.PasswordPause, PasswordPauseWindow: cfg.PasswordPauseWindow,
		PasswordLockout: cfg.PasswordLockout, PasswordLockoutWindow: cfg.PasswordLockoutWindow,
		PasswordRoomLimit: cfg.PasswordRoomLimit,
		CacheTTL:          cfg.MemberCacheTTL,
		StateTimeout:      cfg.StateTimeout,
		MailboxSize:       cfg.MailboxSize,
		Clock:             cfg.Clock,
	}, deps.State, events, log)
	if err != nil {
		_ = sys.Shutdown(context.Background())
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.StateTimeout)
	defer cancel()
	if err := mgr.EnsureLobby(ctx); err != nil {
		_ = sys.Shutdown(context.Background())
		return nil, fmt.Errorf("room service: %w", err)
	}
	// Not fatal: the rooms stay until the next start or someone enters
	// and leaves them.
	if _, err := mgr.Sweep(ctx); err != nil {
		log.Warn("sweep empty rooms", "err", err)
	}
	return &Service{sys: sys, mgr: mgr, server: room.NewServer(mgr, deps.Verifier), auth: deps.Verifier}, nil
}

// Ready reports whether the service can work: its actor system has given
// up on nothing and the RoomManager answers within ctx's deadline.
func (s *Service) Ready(ctx context.Context) error {
	return s.sys.Check(ctx, s.mgr.Ref())
}

// SetHook installs a function run at the start of every message of the
// RoomManager (roomID "") and of every Room actor (and with a nil message
// in a Room actor's Started). It is a seam for fault tests, which panic in
// it to crash the actors; nil removes it.
func (s *Service) SetHook(h func(roomID string, msg any)) { s.mgr.SetHook(h) }

// Register registers pb.RoomService on s.
func (s *Service) Register(g *grpc.Server) { s.server.Register(g) }

// Close stops every Room actor and waits for them.
func (s *Service) Close(ctx context.Context) error {
	errMgr := s.mgr.Close(ctx)
	if err := s.sys.Shutdown(ctx); err != nil {
		return errors.Join(errMgr, fmt.Errorf("room service: %w", err))
	}
	return errMgr
}
