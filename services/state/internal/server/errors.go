package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"google.golang.org/grpc/codes"

	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/pkg/rpc"
	"github.com/pianorhythm/server/services/state/internal/live"
)

// invalidError is a request that breaks a validation rule.
type invalidError struct{ msg string }

func (e *invalidError) Error() string { return e.msg }

func invalidf(format string, args ...any) error {
	return &invalidError{msg: fmt.Sprintf(format, args...)}
}

// toStatus is the one place where errors become gRPC status errors with an
// ErrorInfo reason (the client protocol error codes).
func toStatus(err error) error {
	var inv *invalidError
	var panicErr *actor.PanicError
	var netErr net.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &inv):
		return rpc.Error(codes.InvalidArgument, "INVALID_ARGUMENT", inv.msg)
	case errors.Is(err, live.ErrRoomFull):
		return rpc.Error(codes.FailedPrecondition, "ROOM_FULL", err.Error())
	case errors.Is(err, live.ErrBanned):
		return rpc.Error(codes.FailedPrecondition, "BANNED", err.Error())
	case errors.Is(err, live.ErrMaintenance):
		return rpc.Error(codes.FailedPrecondition, "MAINTENANCE", err.Error())
	case errors.Is(err, live.ErrRevoked):
		return rpc.Error(codes.FailedPrecondition, "PERMISSION_DENIED", err.Error())
	case errors.Is(err, live.ErrNotFound):
		return rpc.Error(codes.NotFound, "NOT_FOUND", err.Error())
	case errors.Is(err, live.ErrAlreadyExists):
		return rpc.Error(codes.AlreadyExists, "ALREADY_EXISTS", err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return rpc.Error(codes.DeadlineExceeded, "UNAVAILABLE", err.Error())
	case errors.Is(err, context.Canceled):
		return rpc.Error(codes.Canceled, "UNAVAILABLE", err.Error())
	case errors.Is(err, actor.ErrMailboxFull), errors.Is(err, actor.ErrStopped):
		return rpc.Error(codes.Unavailable, "UNAVAILABLE", err.Error())
	case errors.As(err, &panicErr):
		return rpc.Error(codes.Internal, "INTERNAL", "internal error")
	case errors.As(err, &netErr), errors.Is(err, io.EOF), errors.Is(err, redis.ErrClosed),
		errors.Is(err, redis.ErrPoolTimeout), mongo.IsNetworkError(err), mongo.IsTimeout(err):
		// The stores are unreachable: worth a retry elsewhere or later.
		return rpc.Error(codes.Unavailable, "UNAVAILABLE", err.Error())
	default:
		return rpc.Error(codes.Internal, "INTERNAL", err.Error())
	}
}
