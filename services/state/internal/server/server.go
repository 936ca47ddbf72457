package server

import (
	"context"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/state/internal/engine"
)

// Config configures the gRPC server.
type Config struct {
	// ChatHistory is the most messages ChatHistory returns (and Redis
	// keeps per room); required.
	ChatHistory int
	// OpTimeout bounds one request's store work; required.
	OpTimeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Server implements pb.StateServiceServer: it validates each request and
// runs it on the engine in the caller's goroutine. It owns no state, so it
// is ordinary concurrent code (no actor), safe for any number of callers;
// races between replicas are settled by the engine's atomic scripts.
type Server struct {
	pb.UnimplementedStateServiceServer
	cfg Config
	eng *engine.Engine
}

var _ pb.StateServiceServer = (*Server)(nil)

// New returns a Server over eng.
func New(cfg Config, eng *engine.Engine) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Server{cfg: cfg, eng: eng}
}

// run bounds fn by OpTimeout (within the caller's own deadline) and maps
// its error to a status.
func run[T any](ctx context.Context, s *Server, fn func(ctx context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.OpTimeout)
	defer cancel()
	v, err := fn(ctx)
	if err != nil {
		var zero T
		return zero, toStatus(err)
	}
	return v, nil
}
