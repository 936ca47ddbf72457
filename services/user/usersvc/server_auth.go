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
	u, err := ask[*pb.User](ctx, s.svc.users, actors.CreateGuest{DisplayName: req.GetDisplayName()})
	if err != nil {
		return nil, s.toStatus(ctx, err)
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
	return s.issue(ctx, u)
}

// Login answers one error for an unknown user and a wrong password, and
// spends the same argon2id time on both.
func (s *server) Login(ctx context.Context, req *pb.LoginRequest) (*pb.AuthResponse, error) {
	if err := validate.Username(req.GetUsername()); err != nil || req.GetPassword() == "" || utf8.RuneCountInString(req.GetPassword()) > 128 {
		return nil, s.toStatus(ctx, actors.ErrBadCredentials)
	}
	if err := s.limit(ctx, "login:ip:"+clientIP(ctx)); err != nil {
		return nil, s.toStatus(ctx, err)
	}
	if err := s.limit(ctx, "login:user:"+account.UsernameKey(req.GetUsername())); err != nil {
		return nil, s.toStatus(ctx, err)
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
	return s.issue(ctx, u)
}

func (s *server) Refresh(ctx context.Context, req *pb.RefreshRequest) (*pb.AuthResponse, error) {
	resp, err := ask[*pb.AuthResponse](ctx, s.svc.sessions, actors.Rotate{RefreshToken: req.GetRefreshToken()})
	return resp, s.toStatus(ctx, err)
}

func (s *server) Logout(ctx context.Context, req *pb.LogoutRequest) (*emptypb.Empty, error) {
	resp, err := ask[*emptypb.Empty](ctx, s.svc.sessions, actors.Revoke{RefreshToken: req.GetRefreshToken()})
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
	u, err := s.svc.env.LoadUser(ctx, id.UserID)
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

// issue starts a session for u.
func (s *server) issue(ctx context.Context, u *pb.User) (*pb.AuthResponse, error) {
	resp, err := ask[*pb.AuthResponse](ctx, s.svc.sessions, actors.Issue{User: u})
	return resp, s.toStatus(ctx, err)
}

// limit counts one attempt on key (shared by every replica through the
// state service) and refuses past Config.LoginLimit per LoginWindow. When
// the counter cannot be reached it fails closed.
func (s *server) limit(ctx context.Context, key string) error {
	return s.limitN(ctx, key, s.svc.cfg.LoginLimit, s.svc.cfg.LoginWindow)
}

// limitN counts one attempt on key and refuses past n per window.
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
	u, err := s.svc.env.LoadUser(ctx, id.UserID)
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
