package connsvc

import (
	"context"
	"fmt"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
)

// remoteVerifier checks tokens with the user service's VerifyToken: the
// default when Deps.Verifier is nil (a JWKS-backed auth.Verifier avoids the
// round trip and is what cmd/connection passes).
type remoteVerifier struct{ user pb.UserServiceClient }

var _ auth.TokenVerifier = remoteVerifier{}

func (v remoteVerifier) Verify(ctx context.Context, token string) (auth.Identity, error) {
	u, err := v.user.VerifyToken(ctx, &pb.VerifyTokenRequest{Token: token})
	if err != nil {
		return auth.Identity{}, fmt.Errorf("verify token: %w", err)
	}
	return auth.Identity{UserID: u.GetId(), DisplayName: u.GetDisplayName(), Roles: u.GetRoles(), Guest: u.GetGuest()}, nil
}
