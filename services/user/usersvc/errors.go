package usersvc

import (
	"context"
	"errors"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/pkg/rpc"
	"github.com/pianorhythm/server/services/user/internal/account"
	"github.com/pianorhythm/server/services/user/internal/actors"
	"github.com/pianorhythm/server/services/user/internal/validate"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// toStatus maps a domain error to the gRPC status the caller gets. Errors
// of the state service are not passed through: they become Unavailable
// or Internal.
// Internal errors are logged here, since the caller only sees a generic
// message.
func (s *server) toStatus(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var own ownError
	if errors.As(err, &own) {
		return own // made by a handler with refuse
	}
	switch {
	case errors.Is(err, validate.ErrInvalid), errors.Is(err, account.ErrBadPageToken):
		return rpc.Refuse(pb.ErrorReason_INVALID_ARGUMENT, err.Error())
	case errors.Is(err, account.ErrNotFound):
		return rpc.Refuse(pb.ErrorReason_NOT_FOUND, "user not found")
	case errors.Is(err, account.ErrTaken):
		return rpc.Refuse(pb.ErrorReason_ALREADY_EXISTS, "username or linked account already taken")
	case errors.Is(err, actors.ErrBadCredentials):
		return rpc.Refuse(pb.ErrorReason_BAD_CREDENTIALS, actors.ErrBadCredentials.Error())
	case errors.Is(err, actors.ErrRateLimited):
		return rpc.Refuse(pb.ErrorReason_RATE_LIMITED, actors.ErrRateLimited.Error())
	case errors.Is(err, actors.ErrBanned):
		return rpc.Refuse(pb.ErrorReason_BANNED, actors.ErrBanned.Error())
	case errors.Is(err, actors.ErrInvalidToken):
		return rpc.Refuse(pb.ErrorReason_UNAUTHENTICATED, actors.ErrInvalidToken.Error())
	case errors.Is(err, actors.ErrFriendship):
		return rpc.Refuse(pb.ErrorReason_FAILED_PRECONDITION, err.Error())
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, actor.ErrMailboxFull), errors.Is(err, actor.ErrStopped):
		return rpc.Refuse(pb.ErrorReason_UNAVAILABLE, "user service busy, try again")
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "canceled")
	}
	var se interface{ GRPCStatus() *status.Status }
	if errors.As(err, &se) && (se.GRPCStatus().Code() == codes.Unavailable || se.GRPCStatus().Code() == codes.DeadlineExceeded) {
		return rpc.Refuse(pb.ErrorReason_UNAVAILABLE, "a dependency is unavailable")
	}
	s.svc.deps.Logger.ErrorContext(ctx, "internal error", "err", err)
	return rpc.Refuse(pb.ErrorReason_INTERNAL, "internal error")
}

// ownError marks status errors made by the handlers themselves, which
// toStatus returns unchanged.
type ownError struct{ error }

func (e ownError) GRPCStatus() *status.Status { return status.Convert(e.error) }

// refuse returns a status error made here (not a downstream one).
func refuse(reason pb.ErrorReason, msg string) error {
	return ownError{rpc.Refuse(reason, msg)}
}
