package actors

import (
	"context"
	"errors"
	"fmt"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/user/internal/account"
	"github.com/pianorhythm/server/services/user/internal/token"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Session issues and rotates tokens. It owns nothing (the state service
// consumes a refresh token atomically), so it is ordinary concurrent code,
// not an actor: safe for any number of goroutines.
type Session struct{ env *Env }

// NewSession returns the session handler.
func NewSession(env *Env) *Session { return &Session{env: env} }

// Issue starts a session for u: an access token and the first refresh
// token of a new family.
func (s *Session) Issue(ctx context.Context, u *pb.User) (*pb.AuthResponse, error) {
	return s.issue(ctx, u, token.NewFamily())
}

// IssueAccess is Issue without a refresh token (nothing is stored): an
// access token only, for a guest that lives as long as one connection.
func (s *Session) IssueAccess(u *pb.User) (*pb.AuthResponse, error) {
	access, exp, err := s.env.Signer.Mint(account.Identity(u))
	if err != nil {
		return nil, err
	}
	return &pb.AuthResponse{User: u, AccessToken: access, AccessTokenExpiresAt: timestamppb.New(exp)}, nil
}

// Rotate trades a refresh token for a new access token and a new refresh
// token of the same family.
func (s *Session) Rotate(ctx context.Context, refresh string) (*pb.AuthResponse, error) {
	return s.rotate(ctx, refresh)
}

// Revoke ends the session of a refresh token (logout); unknown tokens are
// not an error, so logout is idempotent.
func (s *Session) Revoke(ctx context.Context, refresh string) (*emptypb.Empty, error) {
	return s.revoke(ctx, refresh)
}

func (s *Session) issue(ctx context.Context, u *pb.User, family string) (*pb.AuthResponse, error) {
	access, exp, err := s.env.Signer.Mint(account.Identity(u))
	if err != nil {
		return nil, err
	}
	refresh, id := token.NewRefresh()
	octx, cancel := s.env.op(ctx)
	defer cancel()
	_, err = s.env.State.StoreRefreshToken(octx, &pb.StoreRefreshTokenRequest{
		TokenId: id, UserId: u.GetId(), FamilyId: family, Ttl: durationpb.New(s.env.RefreshTTL),
	})
	if err != nil {
		return nil, stateErr("store refresh token", err, nil)
	}
	return &pb.AuthResponse{User: u, AccessToken: access, AccessTokenExpiresAt: timestamppb.New(exp), RefreshToken: refresh}, nil
}

// rotate consumes the token; a token presented a second time means it
// leaked (or the client raced itself), so the whole family is revoked and
// both holders must log in again.
func (s *Session) rotate(ctx context.Context, refresh string) (*pb.AuthResponse, error) {
	rec, err := s.consume(ctx, refresh)
	if err != nil {
		return nil, err
	}
	if rec.GetReused() {
		s.revokeFamily(ctx, rec.GetFamilyId())
		return nil, fmt.Errorf("refresh token reused, session revoked: %w", ErrInvalidToken)
	}
	u, err := s.env.LoadUser(ctx, rec.GetUserId())
	if err != nil {
		return nil, fmt.Errorf("load user: %w", err)
	}
	if account.BannedAt(u, s.env.Now()) {
		s.revokeFamily(ctx, rec.GetFamilyId())
		return nil, ErrBanned
	}
	return s.issue(ctx, u, rec.GetFamilyId())
}

func (s *Session) revoke(ctx context.Context, refresh string) (*emptypb.Empty, error) {
	rec, err := s.consume(ctx, refresh)
	if errors.Is(err, ErrInvalidToken) {
		return &emptypb.Empty{}, nil
	}
	if err != nil {
		return nil, err
	}
	octx, cancel := s.env.op(ctx)
	defer cancel()
	if _, err := s.env.State.RevokeTokenFamily(octx, &pb.RevokeTokenFamilyRequest{FamilyId: rec.GetFamilyId()}); err != nil {
		return nil, stateErr("revoke token family", err, nil)
	}
	return &emptypb.Empty{}, nil
}

func (s *Session) consume(ctx context.Context, refresh string) (*pb.RefreshTokenRecord, error) {
	if refresh == "" || len(refresh) > 256 {
		return nil, ErrInvalidToken
	}
	octx, cancel := s.env.op(ctx)
	defer cancel()
	rec, err := s.env.State.ConsumeRefreshToken(octx, &pb.ConsumeRefreshTokenRequest{TokenId: token.RefreshID(refresh)})
	if err != nil {
		return nil, stateErr("consume refresh token", err, ErrInvalidToken)
	}
	return rec, nil
}

// revokeFamily is best effort inside a refusal: the caller is refused
// either way, and a failure is logged.
func (s *Session) revokeFamily(ctx context.Context, family string) {
	octx, cancel := s.env.op(ctx)
	defer cancel()
	if _, err := s.env.State.RevokeTokenFamily(octx, &pb.RevokeTokenFamilyRequest{FamilyId: family}); err != nil {
		s.env.Logger.WarnContext(ctx, "revoke token family", "family", family, "err", err)
	}
}
