package rpc

import (
	"context"
	"log/slog"
	"time"
)

// ReadyInterval is how often WatchReady asks a service whether it can
// work: a peer's health follows within that time.
const ReadyInterval = time.Second

// WatchReady keeps service's health in step with ready (a service's own
// check: its key actors answer, its actor system gave up on nothing): it
// asks every ReadyInterval, each time with that long to answer, and sets
// SERVING or NOT_SERVING, logging each change once with the reason. It
// returns when ctx ends; the caller owns the goroutine that runs it.
func (s *Server) WatchReady(ctx context.Context, service string, ready func(context.Context) error, log *slog.Logger) {
	t := time.NewTicker(ReadyInterval)
	defer t.Stop()
	serving := true
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cctx, cancel := context.WithTimeout(ctx, ReadyInterval)
		err := ready(cctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		switch {
		case err != nil && serving:
			serving = false
			s.SetServing(service, false)
			log.Error("not serving", "service", service, "reason", err)
		case err == nil && !serving:
			serving = true
			s.SetServing(service, true)
			log.Info("serving again", "service", service)
		}
	}
}
