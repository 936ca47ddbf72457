package room

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/pkg/rpc"
)

// Reasons given to callers (the client protocol's error codes).
const (
	ReasonInvalid          = "INVALID_ARGUMENT"
	ReasonRoomFull         = "ROOM_FULL"
	ReasonWrongPassword    = "WRONG_PASSWORD"
	ReasonBanned           = "BANNED"
	ReasonProOnly          = "PRO_ONLY"
	ReasonGuestsNotAllowed = "GUESTS_NOT_ALLOWED"
	ReasonMaintenance      = "MAINTENANCE"
	ReasonNotFound         = "NOT_FOUND"
	ReasonPermission       = "PERMISSION_DENIED"
	ReasonRateLimited      = "RATE_LIMITED"
	ReasonNotInRoom        = "NOT_IN_ROOM"
	ReasonUnavailable      = "UNAVAILABLE"
	ReasonInternal         = "INTERNAL"
	ReasonAlreadyExists    = "ALREADY_EXISTS"
)

// codeOf is the one place that maps a refusal reason to a gRPC code.
func codeOf(reason string) codes.Code {
	switch reason {
	case ReasonInvalid:
		return codes.InvalidArgument
	case ReasonRoomFull, ReasonRateLimited:
		return codes.ResourceExhausted
	case ReasonWrongPassword, ReasonBanned, ReasonProOnly, ReasonGuestsNotAllowed, ReasonPermission:
		return codes.PermissionDenied
	case ReasonMaintenance, ReasonNotInRoom:
		return codes.FailedPrecondition
	case ReasonNotFound:
		return codes.NotFound
	case ReasonAlreadyExists:
		return codes.AlreadyExists
	case ReasonUnavailable:
		return codes.Unavailable
	default:
		return codes.Internal
	}
}

// refuse builds the status error a caller receives for reason.
func refuse(reason, msg string) error {
	return rpc.Error(codeOf(reason), reason, msg)
}

// fromState translates an error of the state service (or of an actor call)
// into one of ours: refusals state decides (ROOM_FULL, BANNED, ...) keep
// their reason, transport failures become UNAVAILABLE and anything else
// INTERNAL, so a downstream code is never passed through blindly.
func fromState(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return refuse(ReasonUnavailable, op+": "+err.Error())
	}
	if errors.Is(err, actor.ErrMailboxFull) || errors.Is(err, actor.ErrStopped) {
		return refuse(ReasonUnavailable, op+": room busy, try again")
	}
	reason := rpc.Reason(err)
	msg := err.Error()
	if st, ok := status.FromError(err); ok {
		msg = st.Message()
	}
	switch reason {
	case ReasonRoomFull, ReasonBanned, ReasonMaintenance, ReasonNotFound, ReasonAlreadyExists,
		ReasonInvalid, ReasonRateLimited, ReasonNotInRoom, ReasonPermission:
		return refuse(reason, msg)
	case ReasonUnavailable, "DEADLINE_EXCEEDED", "CANCELLED":
		return refuse(ReasonUnavailable, op+": "+msg)
	}
	return refuse(ReasonInternal, op+": "+msg)
}

// isReason reports whether err carries reason.
func isReason(err error, reason string) bool { return err != nil && rpc.Reason(err) == reason }
