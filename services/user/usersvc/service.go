package usersvc

import (
	"context"
	"fmt"
	"strings"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/services/user/internal/account"
	"github.com/pianorhythm/server/services/user/internal/actors"
	"github.com/pianorhythm/server/services/user/internal/oauth"
	"github.com/pianorhythm/server/services/user/internal/password"
	"github.com/pianorhythm/server/services/user/internal/token"
	"google.golang.org/grpc"
)

// Service is the running user service. Its methods are safe for
// concurrent use; Close stops its actors and waits for them.
type Service struct {
	cfg      Config
	deps     Deps
	env      *actors.Env
	hasher   *password.Hasher
	signer   *token.Signer
	verifier *auth.Verifier
	discord  *oauth.Provider // nil when Discord login is off

	sys      *actor.System
	users    *actor.Pool // the UserManager actors
	sessions *actors.Session
	friends  *actors.Friend
	search   *actors.SearchProvider
}

// New creates the MongoDB indexes, loads or makes the signing key and
// starts the service's actors.
func New(cfg Config, deps Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := deps.validate(); err != nil {
		return nil, err
	}
	cfg, deps = cfg.withDefaults(), deps.withDefaults()

	seed := cfg.SigningKeySeed
	if len(seed) == 0 && cfg.KeyFile != "" {
		var err error
		if seed, err = token.LoadOrCreateSeed(cfg.KeyFile); err != nil {
			return nil, fmt.Errorf("user service: %w", err)
		}
	}
	signer, err := token.NewSigner(seed, cfg.Tokens, cfg.AccessTTL, deps.Clock)
	if err != nil {
		return nil, fmt.Errorf("user service: %w", err)
	}
	store := account.NewStore(deps.Mongo)
	ctx, cancel := context.WithTimeout(context.Background(), 4*cfg.OpTimeout)
	defer cancel()
	if err := store.EnsureIndexes(ctx); err != nil {
		return nil, fmt.Errorf("user service: %w", err)
	}
	admins := make(map[string]bool, len(cfg.Admins))
	for _, a := range cfg.Admins {
		admins[account.UsernameKey(strings.TrimSpace(a))] = true
	}
	s := &Service{
		cfg: cfg, deps: deps, signer: signer,
		hasher: password.NewHasher(password.Params(cfg.Password)),
		env: &actors.Env{
			Store: store, State: deps.State, Signer: signer, Now: deps.Clock, Logger: deps.Logger,
			OpTimeout: cfg.OpTimeout, RefreshTTL: cfg.RefreshTTL, Admins: admins,
		},
	}
	// The service verifies its own tokens without a network hop.
	s.verifier, err = auth.NewVerifier(auth.VerifierConfig{
		Fetch:       func(context.Context) (*pb.JwksResponse, error) { return signer.JWKS(), nil },
		TokenConfig: cfg.Tokens, Clock: deps.Clock,
	})
	if err != nil {
		return nil, fmt.Errorf("user service: %w", err)
	}
	if cfg.Discord.ClientID != "" {
		s.discord = oauth.New(cfg.Discord.oauth(), deps.HTTPClient)
	}
	if err := s.start(); err != nil {
		_ = s.sys.Shutdown(context.Background())
		return nil, fmt.Errorf("user service: start actors: %w", err)
	}
	return s, nil
}

func (s *Service) start() error {
	s.sys = actor.NewSystem(actor.Config{Logger: s.deps.Logger, Meter: s.deps.Meter, OnPanic: s.deps.OnPanic, OnGiveUp: s.deps.OnGiveUp})
	var err error
	s.users, err = actor.NewHashPool(s.sys, actor.Props{Kind: "user-manager", New: actors.NewUserManager(s.env)}, s.cfg.UserManagers, actors.UserKey)
	if err != nil {
		return err
	}
	s.sessions = actors.NewSession(s.env)
	s.friends = actors.NewFriend(s.env)
	s.search = actors.NewSearchProvider(s.env)
	return nil
}

// loadUser returns the user id as it is now, through the UserManager that
// owns the account.
func (s *Service) loadUser(ctx context.Context, id string) (*pb.User, error) {
	return ask[*pb.User](ctx, s.users, actors.LoadAccount{ID: id})
}

// Ready reports whether the service can work: its actor system has given
// up on nothing and every UserManager answers within ctx's deadline.
func (s *Service) Ready(ctx context.Context) error {
	return s.sys.Check(ctx, s.users.Refs()...)
}

// Register registers the gRPC UserService on gs.
func (s *Service) Register(gs *grpc.Server) {
	pb.RegisterUserServiceServer(gs, &server{svc: s})
}

// Verifier verifies the service's own access tokens locally: give it to
// the gRPC server the service is registered on (rpc.ServerConfig.Tokens).
func (s *Service) Verifier() auth.TokenVerifier { return s.verifier }

// JWKS returns the public keys of the service's access tokens.
func (s *Service) JWKS() *pb.JwksResponse { return s.signer.JWKS() }

// Close stops the actors, waiting for messages in flight, until ctx ends.
func (s *Service) Close(ctx context.Context) error {
	if err := s.sys.Shutdown(ctx); err != nil {
		return fmt.Errorf("user service: shutdown: %w", err)
	}
	return nil
}

// asker is an actor or a pool.
type asker interface {
	Ask(ctx context.Context, msg any) (any, error)
}

// ask sends msg and returns its typed answer.
func ask[T any](ctx context.Context, a asker, msg any) (T, error) {
	var zero T
	v, err := a.Ask(ctx, msg)
	if err != nil {
		return zero, err
	}
	t, ok := v.(T)
	if !ok {
		return zero, fmt.Errorf("unexpected answer %T to %T", v, msg)
	}
	return t, nil
}
