package server

import (
	"context"

	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/rpc"
	"google.golang.org/grpc/codes"
)

// actingFor returns the user an event or play is recorded for: the caller
// (when userID is empty or the caller's own), or anyone for staff and
// internal services. Unauthenticated callers record nothing.
func actingFor(ctx context.Context, userID string) (string, error) {
	id, err := auth.Require(ctx)
	if err != nil {
		return "", err
	}
	switch {
	case userID == "" && id.Internal():
		return "", nil
	case userID == "":
		return id.UserID, nil
	case userID == id.UserID || id.Staff() || id.Internal():
		return userID, nil
	}
	return "", rpc.Error(codes.PermissionDenied, "PERMISSION_DENIED", "users record only their own events")
}
