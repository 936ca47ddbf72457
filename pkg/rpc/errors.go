package rpc

import (
	"errors"
	"fmt"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

// ErrorDomain is the ErrorInfo domain of every refusal the services give.
const ErrorDomain = "pianorhythm"

// reasonCodes is the one table from a refusal reason to its gRPC code.
// A reason missing here is a programming error (Refuse answers Internal,
// and TestEveryReasonHasACode fails).
var reasonCodes = map[pb.ErrorReason]codes.Code{
	pb.ErrorReason_INVALID_ARGUMENT:    codes.InvalidArgument,
	pb.ErrorReason_NOT_FOUND:           codes.NotFound,
	pb.ErrorReason_ALREADY_EXISTS:      codes.AlreadyExists,
	pb.ErrorReason_PERMISSION_DENIED:   codes.PermissionDenied,
	pb.ErrorReason_UNAUTHENTICATED:     codes.Unauthenticated,
	pb.ErrorReason_RATE_LIMITED:        codes.ResourceExhausted,
	pb.ErrorReason_UNAVAILABLE:         codes.Unavailable,
	pb.ErrorReason_INTERNAL:            codes.Internal,
	pb.ErrorReason_ROOM_FULL:           codes.ResourceExhausted,
	pb.ErrorReason_WRONG_PASSWORD:      codes.PermissionDenied,
	pb.ErrorReason_BANNED:              codes.PermissionDenied,
	pb.ErrorReason_PRO_ONLY:            codes.PermissionDenied,
	pb.ErrorReason_GUESTS_NOT_ALLOWED:  codes.PermissionDenied,
	pb.ErrorReason_MAINTENANCE:         codes.FailedPrecondition,
	pb.ErrorReason_NOT_IN_ROOM:         codes.FailedPrecondition,
	pb.ErrorReason_BAD_CREDENTIALS:     codes.Unauthenticated,
	pb.ErrorReason_REVOKED:             codes.FailedPrecondition,
	pb.ErrorReason_FAILED_PRECONDITION: codes.FailedPrecondition,
	pb.ErrorReason_LOCKED_OUT:          codes.ResourceExhausted,
}

// Code is the gRPC code of reason.
func Code(reason pb.ErrorReason) codes.Code {
	if c, ok := reasonCodes[reason]; ok {
		return c
	}
	return codes.Internal
}

// Refuse returns a gRPC status error for reason: its code from the one
// table, and a google.rpc.ErrorInfo carrying the reason, so every caller
// (and the edge, for the client's `error` message) knows exactly what was
// refused.
func Refuse(reason pb.ErrorReason, msg string) error {
	st := status.New(Code(reason), msg)
	if withInfo, err := st.WithDetails(&errdetails.ErrorInfo{Reason: reason.String(), Domain: ErrorDomain}); err == nil {
		st = withInfo
	}
	return st.Err()
}

// Refusef is Refuse with a formatted message.
func Refusef(reason pb.ErrorReason, format string, args ...any) error {
	return Refuse(reason, fmt.Sprintf(format, args...))
}

// ReasonOf returns the reason of a status error made by Refuse; for a
// status error without one, the reason of its code (NOT_FOUND,
// UNAVAILABLE, ...); for any other non-nil error INTERNAL; for nil,
// ERROR_REASON_UNSPECIFIED.
func ReasonOf(err error) pb.ErrorReason {
	if err == nil {
		return pb.ErrorReason_ERROR_REASON_UNSPECIFIED
	}
	st, ok := status.FromError(err)
	if !ok {
		var se interface{ GRPCStatus() *status.Status }
		if !errors.As(err, &se) {
			return pb.ErrorReason_INTERNAL
		}
		st = se.GRPCStatus()
	}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetDomain() == ErrorDomain {
			if v, ok := pb.ErrorReason_value[info.GetReason()]; ok {
				return pb.ErrorReason(v)
			}
		}
	}
	return reasonOfCode(st.Code())
}

// Reason is ReasonOf's name, the client protocol's error code ("" for nil).
func Reason(err error) string {
	if err == nil {
		return ""
	}
	return ReasonOf(err).String()
}

// IsReason reports whether err carries reason.
func IsReason(err error, reason pb.ErrorReason) bool {
	return err != nil && ReasonOf(err) == reason
}

func reasonOfCode(c codes.Code) pb.ErrorReason {
	switch c {
	case codes.OK:
		return pb.ErrorReason_ERROR_REASON_UNSPECIFIED
	case codes.InvalidArgument, codes.OutOfRange:
		return pb.ErrorReason_INVALID_ARGUMENT
	case codes.NotFound:
		return pb.ErrorReason_NOT_FOUND
	case codes.AlreadyExists:
		return pb.ErrorReason_ALREADY_EXISTS
	case codes.PermissionDenied:
		return pb.ErrorReason_PERMISSION_DENIED
	case codes.ResourceExhausted:
		return pb.ErrorReason_RATE_LIMITED
	case codes.FailedPrecondition, codes.Aborted:
		return pb.ErrorReason_FAILED_PRECONDITION
	case codes.Unauthenticated:
		return pb.ErrorReason_UNAUTHENTICATED
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled:
		return pb.ErrorReason_UNAVAILABLE
	default:
		return pb.ErrorReason_INTERNAL
	}
}
