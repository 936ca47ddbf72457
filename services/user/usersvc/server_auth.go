package usersvc

import (
	"context"
	"errors"
	"net"
	"strings"
	"time"
	"unicode/utf8"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/services/user/internal/account"
	"github.com/pianorhythm/server/services/user/internal/actors"
	"github.com/pianorhythm/server/services/user/internal/password"
	"github.com/pianorhythm/server/services/user/internal/validate"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"
)

// server implements pb.UserService over a Service.
type server struct {
	pb.UnimplementedUserServiceServer
	svc *Service
}

var _ pb.UserServiceServer = (*server)(nil)

func (s *server) CreateGuest(ctx context.Context, req *pb.CreateGuestRequest) (*pb.AuthResponse, error) {
	if name := req.GetDisplayName(); name != "" {
		if err := validate.DisplayName(name); err != nil {
			return nil, s.toStatus(ctx, err)
		}
	}
	u, err := ask[*pb.User](ctx, s.svc.users, actors.CreateGuest{ID: actors.NewGuestID(), DisplayName: req.GetDisplayName()})
	if err != nil {
		return nil, s.toStatus(ctx, err)
	}
	if req.GetAccessOnly() {
		resp, err := s.svc.sessions.IssueAccess(u)
		return resp, s.toStatus(ctx, err)
	}
	return s.issue(ctx, u)
}

func (s *server) Register(ctx context.Context, req *pb.RegisterRequest) (*pb.AuthResponse, error) {
	err := errors.Join(validate.Username(req.GetUsername()), validate.Password(req.GetPassword()))
	if name := req.GetDisplayName(); name != "" {
		err = errors.Join(err, validate.DisplayName(name))
	}
	if err != nil {
		return nil, s.toStatus(ctx, err)
	}
	if err := s.limitN(ctx, "register:ip:"+clientIP(ctx), s.svc.cfg.RegisterLimit, s.svc.cfg.RegisterWindow); err != nil {
		return nil, s.toStatus(ctx, err)
	}
	hash, err := s.svc.hasher.Hash(req.GetPassword()) // here, not in the actor: it is slow
	if err != nil {
		return nil, s.toStatus(ctx, err)
	}
	u, err := ask[*pb.User](ctx, s.svc.users, actors.Register{Username: req.GetUsername(), PasswordHash: hash, DisplayName: req.GetDisplayName()})
	if err != nil {
		return nil, s.toStatus(ctx, err)
	}
	return s.loggedIn(ctx, u, "register")
}

// Login answers one error for an unknown user and a wrong password, and
// spends the same argon2id time on both.
func (s *server) Login(ctx context.Context, req *pb.LoginRequest) (*pb.AuthResponse, error) {
	if err := validate.Username(req.GetUsername()); err != nil || req.GetPassword() == "" || utf8.RuneCountInString(req.GetPassword()) > 128 {
		return nil, s.toStatus(ctx, actors.ErrBadCredentials)
	}
	cfg, ip, key := s.svc.cfg, clientIP(ctx), account.UsernameKey(req.GetUsername())
	if err := s.limitN(ctx, "login:ip:"+ip, cfg.LoginIPLimit, cfg.LoginWindow); err != nil {
		return nil, s.toStatus(ctx, err)
	}
	// Failed logins are counted per account and address, and per account;
	// both are checked before the password, so a locked pair stays locked
	// even for the right password until its window ends.
	failures := []limitKey{
		{"login:fail:" + key + ":" + ip, cfg.LoginLimit},
		{"login:fail:" + key, cfg.LoginAccountLimit},
	}
	for _, f := range failures {
		if err := s.lockedOut(ctx, f, cfg.LoginWindow); err != nil {
			return nil, s.toStatus(ctx, err)
		}
	}
	octx, cancel := context.WithTimeout(ctx, s.svc.cfg.OpTimeout)
	a, err := s.svc.env.Store.ByUsername(octx, req.GetUsername())
	cancel()
	switch {
	case errors.Is(err, account.ErrNotFound):
		err = s.svc.hasher.VerifyDummy(req.GetPassword())
	case err != nil:
	case a.PasswordHash == "": // an OAuth-only account has no password
		err = s.svc.hasher.VerifyDummy(req.GetPassword())
	default:
		err = s.svc.hasher.Verify(a.PasswordHash, req.GetPassword())
	}
	if errors.Is(err, password.ErrMismatch) {
		err = actors.ErrBadCredentials
	}
	if errors.Is(err, actors.ErrBadCredentials) {
		for _, f := range failures {
			if ferr := s.limitN(ctx, f.key, f.limit, cfg.LoginWindow); ferr != nil && !errors.Is(ferr, actors.ErrRateLimited) {
				return nil, s.toStatus(ctx, ferr)
			}
		}
	}
	if err != nil {
		return nil, s.toStatus(ctx, err)
	}
	if a.Banned(s.svc.deps.Clock()) {
		return nil, s.toStatus(ctx, actors.ErrBanned)
	}
	u, err := ask[*pb.User](ctx, s.svc.users, actors.AuthenticateUser{Account: a})
	if err != nil {
		return nil, s.toStatus(ctx, err)
	}
	return s.loggedIn(ctx, u, "password")
}

func (s *server) Refresh(ctx context.Context, req *pb.RefreshRequest) (*pb.AuthResponse, error) {
	resp, err := s.svc.sessions.Rotate(ctx, req.GetRefreshToken())
	return resp, s.toStatus(ctx, err)
}

func (s *server) Logout(ctx context.Context, req *pb.LogoutRequest) (*emptypb.Empty, error) {
	resp, err := s.svc.sessions.Revoke(ctx, req.GetRefreshToken())
	if err == nil {
		// The user is known when the caller signed the request (the web
		// client does); a bare refresh token names nobody here.
		if id, ok := auth.FromContext(ctx); ok {
			s.emit(ctx, "", pb.EventType_EVENT_TYPE_LOGOUT, id.UserID, nil)
		}
	}
	return resp, s.toStatus(ctx, err)
}

func (s *server) Jwks(context.Context, *pb.JwksRequest) (*pb.JwksResponse, error) {
	return s.svc.signer.JWKS(), nil
}

func (s *server) VerifyToken(ctx context.Context, req *pb.VerifyTokenRequest) (*pb.User, error) {
	id, err := s.svc.verifier.Verify(ctx, req.GetToken())
	if err != nil {
		return nil, refuse(pb.ErrorReason_UNAUTHENTICATED, "invalid token")
	}
	u, err := s.svc.loadUser(ctx, id.UserID)
	if errors.Is(err, account.ErrNotFound) {
		return nil, refuse(pb.ErrorReason_UNAUTHENTICATED, "token of an unknown user")
	}
	if err != nil {
		return nil, s.toStatus(ctx, err)
	}
	if account.BannedAt(u, s.svc.deps.Clock()) {
		return nil, s.toStatus(ctx, actors.ErrBanned)
	}
	return u, nil
}

// loggedIn starts a session for u after a login by method and records
// the LOGIN event.
func (s *server) loggedIn(ctx context.Context, u *pb.User, method string) (*pb.AuthResponse, error) {
	resp, err := s.issue(ctx, u)
	if err == nil {
		s.emit(ctx, "", pb.EventType_EVENT_TYPE_LOGIN, u.GetId(), map[string]string{"method": method})
	}
	return resp, err
}

// issue starts a session for u.
func (s *server) issue(ctx context.Context, u *pb.User) (*pb.AuthResponse, error) {
	resp, err := s.svc.sessions.Issue(ctx, u)
	return resp, s.toStatus(ctx, err)
}

// limitKey is a counter of failures and its limit.
type limitKey struct {
	key   string
	limit int
}

// lockedOut refuses (LOCKED_OUT, with the time it ends) when the failures
// counted on f have reached its limit in the current window; it counts
// nothing. When the counter cannot be reached it fails closed.
func (s *server) lockedOut(ctx context.Context, f limitKey, window time.Duration) error {
	octx, cancel := context.WithTimeout(ctx, s.svc.cfg.OpTimeout)
	defer cancel()
	resp, err := s.svc.deps.State.Hit(octx, &pb.HitRequest{Key: f.key, Limit: int32(f.limit), Window: durationpb.New(window), Peek: true})
	if err != nil {
		return err
	}
	if !resp.GetAllowed() {
		until := s.svc.deps.Clock().Add(resp.GetRetryAfter().AsDuration()).UTC().Truncate(time.Second)
		return refuse(pb.ErrorReason_LOCKED_OUT, "too many failed logins: try again after "+until.Format(time.RFC3339))
	}
	return nil
}

// limitN counts one attempt on key (shared by every replica through the
// state service) and refuses past n per window. When the counter cannot
// be reached it fails closed.
func (s *server) limitN(ctx context.Context, key string, n int, window time.Duration) error {
	octx, cancel := context.WithTimeout(ctx, s.svc.cfg.OpTimeout)
	defer cancel()
	resp, err := s.svc.deps.State.Hit(octx, &pb.HitRequest{Key: key, Limit: int32(n), Window: durationpb.New(window)})
	if err != nil {
		return err
	}
	if !resp.GetAllowed() {
		return actors.ErrRateLimited
	}
	return nil
}

// clientIP is the caller's address: the first X-Forwarded-For entry the
// REST gateway sets (the internal gRPC port is not exposed, so only the
// gateway and services set it), else the peer address.
func clientIP(ctx context.Context) string {
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get("x-forwarded-for"); len(v) > 0 {
			if ip := strings.TrimSpace(strings.Split(v[0], ",")[0]); ip != "" {
				return ip
			}
		}
	}
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		if host, _, err := net.SplitHostPort(p.Addr.String()); err == nil {
			return host
		}
		return p.Addr.String()
	}
	return "unknown"
}

// caller returns the authenticated caller's current record; guests and
// accounts alike. Banned accounts are refused.
func (s *server) caller(ctx context.Context) (*pb.User, auth.Identity, error) {
	id, err := auth.Require(ctx)
	if err != nil {
		return nil, id, ownError{err}
	}
	u, err := s.svc.loadUser(ctx, id.UserID)
	if errors.Is(err, account.ErrNotFound) {
		return nil, id, refuse(pb.ErrorReason_UNAUTHENTICATED, "unknown user")
	}
	if err != nil {
		return nil, id, s.toStatus(ctx, err)
	}
	if account.BannedAt(u, s.svc.deps.Clock()) {
		return nil, id, s.toStatus(ctx, actors.ErrBanned)
	}
	return u, id, nil
}

// requireAdmin returns the caller if their current record holds ADMIN
// (the token's roles may be up to AccessTTL old).
func (s *server) requireAdmin(ctx context.Context) (*pb.User, error) {
	u, _, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	if account.Highest(u) < pb.Role_ADMIN {
		return nil, refuse(pb.ErrorReason_PERMISSION_DENIED, "admins only")
	}
	return u, nil
}

// banUntil is the end of a ban of d from now; zero d is permanent.
func banUntil(now time.Time, d *durationpb.Duration) time.Time {
	if d.AsDuration() <= 0 {
		return account.Forever
	}
	return now.Add(d.AsDuration())
}
