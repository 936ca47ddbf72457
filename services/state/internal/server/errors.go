package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/mongo"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/pkg/rpc"
	"github.com/pianorhythm/server/services/state/internal/archive"
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
	var rate *live.RateLimited
	switch {
	case err == nil:
		return nil
	case errors.As(err, &inv):
		return rpc.Refuse(pb.ErrorReason_INVALID_ARGUMENT, inv.msg)
	case errors.Is(err, live.ErrRoomFull):
		return rpc.Refuse(pb.ErrorReason_ROOM_FULL, err.Error())
	case errors.Is(err, live.ErrBanned):
		return rpc.Refuse(pb.ErrorReason_BANNED, err.Error())
	case errors.Is(err, live.ErrMaintenance):
		return rpc.Refuse(pb.ErrorReason_MAINTENANCE, err.Error())
	case errors.Is(err, archive.ErrFamilyRevoked):
		return rpc.Refuse(pb.ErrorReason_REVOKED, err.Error())
	case errors.Is(err, archive.ErrTokenNotFound):
		return rpc.Refuse(pb.ErrorReason_NOT_FOUND, err.Error())
	case errors.Is(err, archive.ErrTokenExists):
		return rpc.Refuse(pb.ErrorReason_ALREADY_EXISTS, err.Error())
	case errors.Is(err, live.ErrNotInRoom):
		return rpc.Refuse(pb.ErrorReason_NOT_IN_ROOM, err.Error())
	case errors.As(err, &rate):
		return rpc.Refuse(pb.ErrorReason_RATE_LIMITED, rate.Error())
	case errors.Is(err, live.ErrNotFound):
		return rpc.Refuse(pb.ErrorReason_NOT_FOUND, err.Error())
	case errors.Is(err, live.ErrAlreadyExists):
		return rpc.Refuse(pb.ErrorReason_ALREADY_EXISTS, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return rpc.Refuse(pb.ErrorReason_UNAVAILABLE, err.Error())
	case errors.Is(err, context.Canceled):
		return rpc.Refuse(pb.ErrorReason_UNAVAILABLE, err.Error())
	case errors.Is(err, actor.ErrMailboxFull), errors.Is(err, actor.ErrStopped):
		return rpc.Refuse(pb.ErrorReason_UNAVAILABLE, err.Error())
	case errors.As(err, &panicErr):
		return rpc.Refuse(pb.ErrorReason_INTERNAL, "internal error")
	case errors.As(err, &netErr), errors.Is(err, io.EOF), errors.Is(err, redis.ErrClosed),
		errors.Is(err, redis.ErrPoolTimeout), mongo.IsNetworkError(err), mongo.IsTimeout(err):
		// The stores are unreachable: worth a retry elsewhere or later.
		return rpc.Refuse(pb.ErrorReason_UNAVAILABLE, err.Error())
	default:
		return rpc.Refuse(pb.ErrorReason_INTERNAL, err.Error())
	}
}
