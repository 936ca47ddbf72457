package rpc_test

import (
	"errors"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/rpc"
)

// TestEveryReasonHasACode fails when a reason is added to the catalogue
// without its gRPC code.
func TestEveryReasonHasACode(t *testing.T) {
	for v, name := range pb.ErrorReason_name {
		r := pb.ErrorReason(v)
		if r == pb.ErrorReason_ERROR_REASON_UNSPECIFIED {
			continue
		}
		err := rpc.Refuse(r, "no")
		if got := rpc.ReasonOf(err); got != r {
			t.Errorf("%s: ReasonOf(Refuse) = %s", name, got)
		}
		if rpc.Code(r) == codes.Internal && r != pb.ErrorReason_INTERNAL {
			t.Errorf("%s has no gRPC code in the table", name)
		}
		if rpc.Reason(err) != name {
			t.Errorf("%s: Reason = %q", name, rpc.Reason(err))
		}
	}
}

func TestReasonOfForeignErrors(t *testing.T) {
	tests := []struct {
		err  error
		want pb.ErrorReason
	}{
		{nil, pb.ErrorReason_ERROR_REASON_UNSPECIFIED},
		{errors.New("plain"), pb.ErrorReason_INTERNAL},
		{status.Error(codes.Unavailable, "down"), pb.ErrorReason_UNAVAILABLE},
		{status.Error(codes.DeadlineExceeded, "slow"), pb.ErrorReason_UNAVAILABLE},
		{status.Error(codes.NotFound, "gone"), pb.ErrorReason_NOT_FOUND},
		{rpc.Refuse(pb.ErrorReason_ROOM_FULL, "full"), pb.ErrorReason_ROOM_FULL},
	}
	for _, tt := range tests {
		if got := rpc.ReasonOf(tt.err); got != tt.want {
			t.Errorf("ReasonOf(%v) = %s, want %s", tt.err, got, tt.want)
		}
	}
	if status.Code(rpc.Refuse(pb.ErrorReason_ROOM_FULL, "x")) != codes.ResourceExhausted {
		t.Error("ROOM_FULL is not ResourceExhausted")
	}
}
