package room

import (
	"context"
	"errors"

	"google.golang.org/grpc/status"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/pkg/rpc"
)

// Short names of the reasons this package refuses with (the values of the
// one catalogue, pb.ErrorReason).
const (
	ReasonInvalid          = pb.ErrorReason_INVALID_ARGUMENT
	ReasonRoomFull         = pb.ErrorReason_ROOM_FULL
	ReasonWrongPassword    = pb.ErrorReason_WRONG_PASSWORD
	ReasonBanned           = pb.ErrorReason_BANNED
	ReasonProOnly          = pb.ErrorReason_PRO_ONLY
	ReasonGuestsNotAllowed = pb.ErrorReason_GUESTS_NOT_ALLOWED
	ReasonMaintenance      = pb.ErrorReason_MAINTENANCE
	ReasonNotFound         = pb.ErrorReason_NOT_FOUND
	ReasonPermission       = pb.ErrorReason_PERMISSION_DENIED
	ReasonRateLimited      = pb.ErrorReason_RATE_LIMITED
	ReasonNotInRoom        = pb.ErrorReason_NOT_IN_ROOM
	ReasonUnavailable      = pb.ErrorReason_UNAVAILABLE
	ReasonInternal         = pb.ErrorReason_INTERNAL
	ReasonAlreadyExists    = pb.ErrorReason_ALREADY_EXISTS
	ReasonLockedOut        = pb.ErrorReason_LOCKED_OUT
)

// refuse builds the status error a caller receives for reason.
func refuse(reason pb.ErrorReason, msg string) error { return rpc.Refuse(reason, msg) }

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
	reason := rpc.ReasonOf(err)
	msg := err.Error()
	if st, ok := status.FromError(err); ok {
		msg = st.Message()
	}
	switch reason {
	case ReasonRoomFull, ReasonBanned, ReasonMaintenance, ReasonNotFound, ReasonAlreadyExists,
		ReasonInvalid, ReasonRateLimited, ReasonNotInRoom, ReasonPermission, ReasonLockedOut:
		return refuse(reason, msg)
	case ReasonUnavailable:
		return refuse(ReasonUnavailable, op+": "+msg)
	}
	return refuse(ReasonInternal, op+": "+msg)
}

// isReason reports whether err carries reason.
func isReason(err error, reason pb.ErrorReason) bool { return rpc.IsReason(err, reason) }
