// Package monitorsvc is the monitor service (StatusPageMonitor,
// ErrorTracker, LogSink). Until its issue lands it serves
// the generated Unimplemented server, so its health and reflection are
// visible while every RPC answers UNIMPLEMENTED.
package monitorsvc

import (
	"context"
	"log/slog"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"google.golang.org/grpc"
)

// Config configures the monitor service. It has no settings yet.
type Config struct{}

// Deps are the collaborators of the monitor service.
type Deps struct {
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// Service is the monitor service.
type Service struct {
	logger *slog.Logger
}

type server struct {
	pb.UnimplementedMonitorServiceServer
}

var _ pb.MonitorServiceServer = (*server)(nil)

// New returns the monitor service.
func New(_ Config, deps Deps) (*Service, error) {
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	return &Service{logger: deps.Logger}, nil
}

// Register registers the service's gRPC server on s.
func (s *Service) Register(gs *grpc.Server) {
	pb.RegisterMonitorServiceServer(gs, &server{})
}

// Close stops the service. It has nothing running yet.
func (s *Service) Close(context.Context) error { return nil }
