// Package analyticssvc is the analytics service (AnalyticsTracker,
// UserStatsTracker, SheetMusicStatsTracker). Until its issue lands it serves
// the generated Unimplemented server, so its health and reflection are
// visible while every RPC answers UNIMPLEMENTED.
package analyticssvc

import (
	"context"
	"log/slog"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"google.golang.org/grpc"
)

// Config configures the analytics service. It has no settings yet.
type Config struct{}

// Deps are the collaborators of the analytics service.
type Deps struct {
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// Service is the analytics service.
type Service struct {
	logger *slog.Logger
}

type server struct {
	pb.UnimplementedAnalyticsServiceServer
}

var _ pb.AnalyticsServiceServer = (*server)(nil)

// New returns the analytics service.
func New(_ Config, deps Deps) (*Service, error) {
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	return &Service{logger: deps.Logger}, nil
}

// Register registers the service's gRPC server on s.
func (s *Service) Register(gs *grpc.Server) {
	pb.RegisterAnalyticsServiceServer(gs, &server{})
}

// Close stops the service. It has nothing running yet.
func (s *Service) Close(context.Context) error { return nil }
