package auth

import (
	"context"
	"errors"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// TokenVerifier turns a bearer token into an identity. *Verifier (JWKS) is
// the one that ships; tests of other packages may pass their own.
type TokenVerifier interface {
	Verify(ctx context.Context, token string) (Identity, error)
}

// UnaryServerInterceptor puts the caller's identity in the context: from a
// "Bearer" token in the authorization metadata (verified by v), or from the
// identity metadata an authenticated peer service set (see
// PeerFromContext; pkg/rpc's server checks the service credential before
// this runs). A request with neither proceeds anonymously and handlers
// decide; a token that fails verification, or identity metadata from a
// caller that is not an authenticated service, is refused with
// Unauthenticated. A nil v rejects every bearer token.
func UnaryServerInterceptor(v TokenVerifier) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, err := Authenticate(ctx, v)
		if err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// Authenticate resolves the identity of an incoming gRPC context as
// UnaryServerInterceptor does.
func Authenticate(ctx context.Context, v TokenVerifier) (context.Context, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	if token := BearerToken(first(md, "authorization")); token != "" {
		if v == nil {
			return ctx, status.Error(codes.Unauthenticated, "token verification is not configured")
		}
		id, err := v.Verify(ctx, token)
		if errors.Is(err, ErrKeysUnavailable) {
			return ctx, status.Errorf(codes.Unavailable, "cannot verify token now: %v", err)
		}
		if err != nil {
			return ctx, status.Errorf(codes.Unauthenticated, "invalid token: %v", err)
		}
		return NewContext(ctx, id), nil
	}
	if id, ok := identityFromMetadata(md); ok {
		if _, peer := PeerFromContext(ctx); !peer {
			return ctx, status.Error(codes.Unauthenticated, "identity metadata is accepted from authenticated services only")
		}
		return NewContext(ctx, id), nil
	}
	return ctx, nil
}

// BearerToken extracts the token of an "Authorization: Bearer <token>"
// value; "" when it is not one.
func BearerToken(header string) string {
	const prefix = "bearer "
	if len(header) > len(prefix) && strings.EqualFold(header[:len(prefix)], prefix) {
		return strings.TrimSpace(header[len(prefix):])
	}
	return ""
}

// Require returns the caller's identity or Unauthenticated.
func Require(ctx context.Context) (Identity, error) {
	id, ok := FromContext(ctx)
	if !ok {
		return Identity{}, status.Error(codes.Unauthenticated, "authentication required")
	}
	return id, nil
}

// RequireStaff returns the caller's identity when it is a moderator, an
// admin or an internal service; Unauthenticated without an identity and
// PermissionDenied otherwise.
func RequireStaff(ctx context.Context) (Identity, error) {
	id, err := Require(ctx)
	if err != nil {
		return Identity{}, err
	}
	if !id.Staff() && !id.Internal() {
		return Identity{}, status.Error(codes.PermissionDenied, "moderators and admins only")
	}
	return id, nil
}
