package server

import (
	"context"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/rpc"
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
	return "", rpc.Refuse(pb.ErrorReason_PERMISSION_DENIED, "users record only their own events")
}
