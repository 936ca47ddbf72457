package engine

import (
	"context"
	"fmt"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/state/internal/archive"
)

// SetOnline records the presence and opens an archived session.
func (e *Engine) SetOnline(ctx context.Context, userID, instanceID, connID, roomID string) (*pb.Presence, error) {
	now := e.now()
	p, err := e.Live.SetOnline(ctx, userID, instanceID, connID, roomID, now)
	if err != nil {
		return nil, err
	}
	if err := e.Writer.Tell(ctx, archive.SessionStart{UserID: userID, InstanceID: instanceID, ConnectionID: connID, At: now}); err != nil {
		return nil, fmt.Errorf("queue session for archive: %w", err)
	}
	return p, nil
}

// SetOffline clears the presence (of connID only, when set) and closes the
// archived session of the connection that held it.
func (e *Engine) SetOffline(ctx context.Context, userID, connID string) (*pb.Presence, error) {
	p, ended, err := e.Live.SetOffline(ctx, userID, connID)
	if err != nil {
		return nil, err
	}
	if ended != "" {
		if err := e.Writer.Tell(ctx, archive.SessionEnd{UserID: userID, ConnectionID: ended, At: e.now()}); err != nil {
			return nil, fmt.Errorf("queue session end for archive: %w", err)
		}
	}
	return p, nil
}
