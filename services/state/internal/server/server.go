package server

import (
	"context"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/state/internal/engine"
	"github.com/pianorhythm/server/services/state/internal/shard"
)

// Config configures the gRPC server.
type Config struct {
	// ChatHistory is the most messages ChatHistory returns (and Redis
	// keeps per room); required.
	ChatHistory int
	// RevokedFamilyTTL is how long a revoked token family is remembered;
	// required.
	RevokedFamilyTTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Server implements pb.StateServiceServer. It is safe for concurrent use.
type Server struct {
	pb.UnimplementedStateServiceServer
	cfg Config
	eng *engine.Engine
	m   *shard.Manager
}

var _ pb.StateServiceServer = (*Server)(nil)

// New returns a Server running requests on m's shards.
func New(cfg Config, eng *engine.Engine, m *shard.Manager) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Server{cfg: cfg, eng: eng, m: m}
}

// call runs fn on the shard owning key and maps its error to a status.
func call[T any](ctx context.Context, s *Server, key string, fn func(ctx context.Context) (T, error)) (T, error) {
	v, err := shard.Do(ctx, s.m, key, fn)
	if err != nil {
		var zero T
		return zero, toStatus(err)
	}
	return v, nil
}
