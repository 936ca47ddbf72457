package rpc

import (
	"errors"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrorDomain is the ErrorInfo domain of every refusal the services give.
const ErrorDomain = "pianorhythm"

// Error returns a gRPC status error with code and a google.rpc.ErrorInfo
// carrying reason, one of the client protocol's error codes (ROOM_FULL,
// BANNED, ...), so the edge can tell the client exactly what was refused.
func Error(code codes.Code, reason, msg string) error {
	st := status.New(code, msg)
	if withInfo, err := st.WithDetails(&errdetails.ErrorInfo{Reason: reason, Domain: ErrorDomain}); err == nil {
		st = withInfo
	}
	return st.Err()
}

// Reason returns the ErrorInfo reason of a status error made by Error, or
// the upper-case name of its code (NOT_FOUND, UNAVAILABLE, ...) when it has
// none; "" for a nil error.
func Reason(err error) string {
	if err == nil {
		return ""
	}
	st, ok := status.FromError(err)
	if !ok {
		var se interface{ GRPCStatus() *status.Status }
		if !errors.As(err, &se) {
			return "INTERNAL"
		}
		st = se.GRPCStatus()
	}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetReason() != "" {
			return info.GetReason()
		}
	}
	return codeName(st.Code())
}

func codeName(c codes.Code) string {
	switch c {
	case codes.OK:
		return ""
	case codes.Canceled:
		return "CANCELLED"
	case codes.InvalidArgument:
		return "INVALID_ARGUMENT"
	case codes.DeadlineExceeded:
		return "DEADLINE_EXCEEDED"
	case codes.NotFound:
		return "NOT_FOUND"
	case codes.AlreadyExists:
		return "ALREADY_EXISTS"
	case codes.PermissionDenied:
		return "PERMISSION_DENIED"
	case codes.ResourceExhausted:
		return "RATE_LIMITED"
	case codes.FailedPrecondition:
		return "FAILED_PRECONDITION"
	case codes.Unauthenticated:
		return "UNAUTHENTICATED"
	case codes.Unavailable:
		return "UNAVAILABLE"
	default:
		return "INTERNAL"
	}
}
