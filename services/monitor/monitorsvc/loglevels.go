package monitorsvc

import (
	"context"
	"time"

	"google.golang.org/grpc/status"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/rpc"
	"github.com/pianorhythm/server/pkg/telemetry"
)

// levelTimeout bounds one call to a service's DiagnosticsService.
const levelTimeout = 5 * time.Second

// ownName is the monitor's own name in SetLogLevel and ListLogLevels.
const ownName = "monitor"

// SetLogLevel changes one service's log level (staff only): the monitor's
// own at once, another service's through its DiagnosticsService, which
// applies it from its next log line on.
func (s *server) SetLogLevel(ctx context.Context, req *pb.SetLogLevelRequest) (*pb.ServiceLogLevel, error) {
	if _, err := auth.RequireStaff(ctx); err != nil {
		return nil, err
	}
	if _, err := telemetry.ParseLevel(req.GetLevel()); err != nil {
		return nil, rpc.Refuse(pb.ErrorReason_INVALID_ARGUMENT, "level must be debug, info, warn or error")
	}
	lv, err := s.svc.logLevel(ctx, req.GetService(), req.GetLevel())
	if err != nil {
		return nil, err
	}
	return lv, nil
}

// ListLogLevels shows every service's log level (staff only); a service
// that does not answer is listed with its error.
func (s *server) ListLogLevels(ctx context.Context, _ *pb.ListLogLevelsRequest) (*pb.ListLogLevelsResponse, error) {
	if _, err := auth.RequireStaff(ctx); err != nil {
		return nil, err
	}
	out := &pb.ListLogLevelsResponse{}
	for _, name := range s.svc.levelNames() {
		lv, err := s.svc.logLevel(ctx, name, "")
		if err != nil {
			lv = &pb.ServiceLogLevel{Service: name, Error: status.Convert(err).Message()}
		}
		out.Levels = append(out.Levels, lv)
	}
	return out, nil
}

func (s *Service) levelNames() []string {
	var names []string
	for _, t := range s.targets {
		names = append(names, t.Name)
	}
	if s.level != nil {
		names = append(names, ownName)
	}
	return names
}

// logLevel sets (or with level "" reads) the level of service.
func (s *Service) logLevel(ctx context.Context, service, level string) (*pb.ServiceLogLevel, error) {
	if service == ownName && s.level != nil {
		if level != "" {
			l, _ := telemetry.ParseLevel(level)
			s.level.Set(l)
		}
		return &pb.ServiceLogLevel{Service: ownName, Level: telemetry.LevelName(s.level.Level())}, nil
	}
	for _, t := range s.targets {
		if t.Name != service {
			continue
		}
		ctx, cancel := context.WithTimeout(ctx, levelTimeout)
		defer cancel()
		// The caller is staff (checked); the service is asked as the monitor.
		ctx = auth.OutgoingContext(ctx, auth.System(ownName))
		lv, err := pb.NewDiagnosticsServiceClient(t.Conn).SetLogLevel(ctx, &pb.DiagnosticsLogLevel{Level: level})
		if err != nil {
			if rpc.IsReason(err, pb.ErrorReason_FAILED_PRECONDITION) {
				return nil, rpc.Refuse(pb.ErrorReason_FAILED_PRECONDITION, service+"'s log level is fixed")
			}
			return nil, rpc.Refuse(pb.ErrorReason_UNAVAILABLE, service+" did not answer: "+status.Convert(err).Message())
		}
		return &pb.ServiceLogLevel{Service: service, Level: lv.GetLevel()}, nil
	}
	return nil, rpc.Refuse(pb.ErrorReason_NOT_FOUND, "no service "+service+" (see ListLogLevels)")
}

// ErrorRates returns the error reports per minute of every service over
// the last hour (staff only).
func (s *server) ErrorRates(ctx context.Context, req *pb.ErrorRatesRequest) (*pb.ErrorRatesResponse, error) {
	if _, err := auth.RequireStaff(ctx); err != nil {
		return nil, err
	}
	rs, err := s.svc.tracker.Rates(ctx, req.GetService())
	if err != nil {
		return nil, grpcError(err)
	}
	return &pb.ErrorRatesResponse{Rates: rs}, nil
}
