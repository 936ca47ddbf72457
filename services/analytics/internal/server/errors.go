package server

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"

	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/pkg/rpc"
	"github.com/pianorhythm/server/services/analytics/internal/songs"
)

func invalid(msg string) error { return rpc.Error(codes.InvalidArgument, "INVALID_ARGUMENT", msg) }

// toStatus maps a domain or store error to the status the client sees.
func toStatus(err error) error {
	switch {
	case errors.Is(err, songs.ErrNotFound):
		return rpc.Error(codes.NotFound, "NOT_FOUND", "song not found")
	case errors.Is(err, songs.ErrExists):
		return rpc.Error(codes.AlreadyExists, "ALREADY_EXISTS", "a song with this id already exists")
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return rpc.Error(codes.DeadlineExceeded, "UNAVAILABLE", "analytics did not answer in time")
	case errors.Is(err, actor.ErrStopped), errors.Is(err, actor.ErrMailboxFull):
		return rpc.Error(codes.Unavailable, "UNAVAILABLE", "analytics is shutting down or busy")
	}
	return rpc.Error(codes.Internal, "INTERNAL", "analytics store failure")
}
