package usersvc

import (
	"context"
	"errors"

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
		return rpc.Error(codes.InvalidArgument, "INVALID_ARGUMENT", err.Error())
	case errors.Is(err, account.ErrNotFound):
		return rpc.Error(codes.NotFound, "NOT_FOUND", "user not found")
	case errors.Is(err, account.ErrTaken):
		return rpc.Error(codes.AlreadyExists, "ALREADY_EXISTS", "username or linked account already taken")
	case errors.Is(err, actors.ErrBadCredentials):
		return rpc.Error(codes.Unauthenticated, "WRONG_PASSWORD", actors.ErrBadCredentials.Error())
	case errors.Is(err, actors.ErrRateLimited):
		return rpc.Error(codes.ResourceExhausted, "RATE_LIMITED", actors.ErrRateLimited.Error())
	case errors.Is(err, actors.ErrBanned):
		return rpc.Error(codes.PermissionDenied, "BANNED", actors.ErrBanned.Error())
	case errors.Is(err, actors.ErrInvalidToken):
		return rpc.Error(codes.Unauthenticated, "UNAUTHENTICATED", actors.ErrInvalidToken.Error())
	case errors.Is(err, actors.ErrFriendship):
		return rpc.Error(codes.FailedPrecondition, "INVALID_ARGUMENT", err.Error())
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, actor.ErrMailboxFull), errors.Is(err, actor.ErrStopped):
		return rpc.Error(codes.Unavailable, "UNAVAILABLE", "user service busy, try again")
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "canceled")
	}
	var se interface{ GRPCStatus() *status.Status }
	if errors.As(err, &se) && (se.GRPCStatus().Code() == codes.Unavailable || se.GRPCStatus().Code() == codes.DeadlineExceeded) {
		return rpc.Error(codes.Unavailable, "UNAVAILABLE", "a dependency is unavailable")
	}
	s.svc.deps.Logger.ErrorContext(ctx, "internal error", "err", err)
	return rpc.Error(codes.Internal, "INTERNAL", "internal error")
}

// ownError marks status errors made by the handlers themselves, which
// toStatus returns unchanged.
type ownError struct{ error }

func (e ownError) GRPCStatus() *status.Status { return status.Convert(e.error) }

// refuse returns a status error made here (not a downstream one).
func refuse(code codes.Code, reason, msg string) error {
	return ownError{rpc.Error(code, reason, msg)}
}
