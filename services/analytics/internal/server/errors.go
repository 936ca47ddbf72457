package server

import (
	"context"
	"errors"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/pkg/rpc"
	"github.com/pianorhythm/server/services/analytics/internal/songs"
)

func invalid(msg string) error { return rpc.Refuse(pb.ErrorReason_INVALID_ARGUMENT, msg) }

// toStatus maps a domain or store error to the status the client sees.
func toStatus(err error) error {
	switch {
	case errors.Is(err, songs.ErrNotFound):
		return rpc.Refuse(pb.ErrorReason_NOT_FOUND, "song not found")
	case errors.Is(err, songs.ErrExists):
		return rpc.Refuse(pb.ErrorReason_ALREADY_EXISTS, "a song with this id already exists")
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return rpc.Refuse(pb.ErrorReason_UNAVAILABLE, "analytics did not answer in time")
	case errors.Is(err, actor.ErrStopped), errors.Is(err, actor.ErrMailboxFull):
		return rpc.Refuse(pb.ErrorReason_UNAVAILABLE, "analytics is shutting down or busy")
	}
	return rpc.Refuse(pb.ErrorReason_INTERNAL, "analytics store failure")
}
