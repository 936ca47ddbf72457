package monitorsvc

import (
	"context"
	"errors"
	"github.com/pianorhythm/server/pkg/auth"
	"strings"
	"unicode/utf8"

	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/pkg/rpc"
)

// Limits on what a reporter may send; longer text is cut, not refused, so
// an error report is never lost for being verbose.
const (
	maxMessage    = 4 << 10
	maxStack      = 64 << 10
	maxAttributes = 32
	// defaultLogs is RecentLogs' limit when the request has none.
	defaultLogs = 100
)

type server struct {
	pb.UnimplementedMonitorServiceServer
	svc *Service
}

var _ pb.MonitorServiceServer = (*server)(nil)

func (s *server) Status(ctx context.Context, _ *pb.StatusRequest) (*pb.StatusReport, error) {
	rep, err := s.svc.Status(ctx)
	if err != nil {
		return nil, grpcError(err)
	}
	return rep, nil
}

// ReportError takes reports from any authenticated caller (services, and
// clients reporting their own errors); the reporter is recorded so a flood
// can be traced to its source.
func (s *server) ReportError(ctx context.Context, r *pb.ErrorReport) (*emptypb.Empty, error) {
	caller, err := auth.Require(ctx)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(r.GetMessage()) == "" {
		return nil, rpc.Refuse(pb.ErrorReason_INVALID_ARGUMENT, "message is required")
	}
	if len(r.GetAttributes()) > maxAttributes {
		return nil, rpc.Refuse(pb.ErrorReason_INVALID_ARGUMENT, "too many attributes")
	}
	// The request is ours once the handler returns, but clone anyway: the
	// tracker keeps nothing of it, and a clone costs little next to the RPC.
	r = proto.CloneOf(r)
	if r.Service == "" {
		r.Service = "unknown"
	}
	if r.Attributes == nil {
		r.Attributes = map[string]string{}
	}
	r.Attributes["reported_by"] = caller.UserID
	if r.UserId == "" && !caller.Internal() && !caller.Staff() {
		r.UserId = caller.UserID // a client reporting its own error
	}
	r.Message = truncate(r.Message, maxMessage)
	r.Stack = truncate(r.Stack, maxStack)
	if err := s.svc.Report(ctx, r); err != nil {
		return nil, grpcError(err)
	}
	return &emptypb.Empty{}, nil
}

// ListErrorGroups and RecentLogs show internals: staff only.
func (s *server) ListErrorGroups(ctx context.Context, _ *pb.ListErrorGroupsRequest) (*pb.ListErrorGroupsResponse, error) {
	if _, err := auth.RequireStaff(ctx); err != nil {
		return nil, err
	}
	gs, err := s.svc.tracker.Groups(ctx)
	if err != nil {
		return nil, grpcError(err)
	}
	return &pb.ListErrorGroupsResponse{Groups: gs}, nil
}

func (s *server) RecentLogs(ctx context.Context, r *pb.RecentLogsRequest) (*pb.RecentLogsResponse, error) {
	if _, err := auth.RequireStaff(ctx); err != nil {
		return nil, err
	}
	level := strings.ToUpper(r.GetLevel())
	switch level {
	case "", "WARN", "ERROR":
	default:
		return nil, rpc.Refuse(pb.ErrorReason_INVALID_ARGUMENT, "level must be WARN, ERROR or empty")
	}
	limit := int(r.GetLimit())
	switch {
	case limit < 0:
		return nil, rpc.Refuse(pb.ErrorReason_INVALID_ARGUMENT, "limit must not be negative")
	case limit == 0:
		limit = defaultLogs
	}
	es, err := s.svc.sink.Recent(ctx, level, limit)
	if err != nil {
		return nil, grpcError(err)
	}
	return &pb.RecentLogsResponse{Entries: es}, nil
}

// grpcError maps the monitor's failures: its actors stopping or being
// overloaded is UNAVAILABLE, an ended context keeps its code.
func grpcError(err error) error {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return status.FromContextError(err).Err()
	case errors.Is(err, actor.ErrStopped), errors.Is(err, actor.ErrMailboxFull):
		return rpc.Refuse(pb.ErrorReason_UNAVAILABLE, "monitor is unavailable")
	default:
		return rpc.Refuse(pb.ErrorReason_INTERNAL, "monitor failed")
	}
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
