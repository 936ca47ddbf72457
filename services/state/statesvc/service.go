package statesvc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/grpc"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/services/state/internal/archive"
	"github.com/pianorhythm/server/services/state/internal/engine"
	"github.com/pianorhythm/server/services/state/internal/live"
	"github.com/pianorhythm/server/services/state/internal/server"
	"github.com/pianorhythm/server/services/state/internal/shard"
)

// Service is a running state service: its actors (shards under a
// supervisor, the archive writer) and a retry ticker. Close stops them.
type Service struct {
	cfg    Config
	log    *slog.Logger
	sys    *actor.System
	writer *actor.Ref
	shards *shard.Manager
	srv    *server.Server

	stop      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// New creates the MongoDB indexes and starts the service's actors. The
// caller registers it on a gRPC server with Register and must Close it.
func New(cfg Config, deps Deps) (*Service, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := deps.validate(); err != nil {
		return nil, err
	}
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	arch := archive.New(deps.Mongo)
	ctx, cancel := context.WithTimeout(context.Background(), cfg.StartTimeout)
	defer cancel()
	if err := arch.EnsureIndexes(ctx); err != nil {
		return nil, fmt.Errorf("start state service: %w", err)
	}

	s := &Service{cfg: cfg, log: log, stop: make(chan struct{})}
	s.sys = actor.NewSystem(actor.Config{Logger: log, Meter: deps.Meter, OnPanic: deps.OnPanic})
	var err error
	s.writer, err = s.sys.Spawn(actor.Props{
		Kind:        "state-archive",
		Name:        "state-archive",
		New:         archive.NewWriter(archive.WriterConfig{Archive: arch, Logger: log, OpTimeout: cfg.OpTimeout}),
		MailboxSize: 10 * cfg.ChatBatchSize,
		BatchSize:   cfg.ChatBatchSize,
	})
	if err != nil {
		_ = s.sys.Shutdown(ctx)
		return nil, fmt.Errorf("start archive writer: %w", err)
	}
	eng := &engine.Engine{
		Live:     live.New(deps.Redis, cfg.KeyPrefix, cfg.ChatHistory),
		Archive:  arch,
		Writer:   s.writer,
		Now:      cfg.Now,
		ChatKeep: cfg.ChatHistory,
		Logger:   log,
	}
	s.shards, err = shard.New(s.sys, eng, shard.Config{
		Shards: cfg.Shards, MailboxSize: cfg.ShardMailbox, OpTimeout: cfg.OpTimeout,
	})
	if err != nil {
		_ = s.sys.Shutdown(ctx)
		return nil, fmt.Errorf("start shards: %w", err)
	}
	s.srv = server.New(server.Config{ChatHistory: cfg.ChatHistory, RevokedFamilyTTL: cfg.RevokedFamilyTTL, Now: cfg.Now}, eng, s.shards)
	s.wg.Add(1)
	go s.tick()
	return s, nil
}

// tick asks the writer to retry failed archive writes on an interval.
func (s *Service) tick() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.ChatFlushInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			// FailFast semantics are not needed: a full mailbox means the
			// writer is busy writing anyway.
			ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ChatFlushInterval)
			_ = s.writer.Tell(ctx, archive.Tick{})
			cancel()
		}
	}
}

// Register registers the StateService on g.
func (s *Service) Register(g *grpc.Server) { pb.RegisterStateServiceServer(g, s.srv) }

// Server returns the StateService implementation, for callers in the same
// process that skip the network.
func (s *Service) Server() pb.StateServiceServer { return s.srv }

// Close stops the shards, writes pending chat and sessions to MongoDB and
// stops every actor, waiting until ctx is done at most. Stop the gRPC
// server first. Calling it again returns the first result.
func (s *Service) Close(ctx context.Context) error {
	s.closeOnce.Do(func() {
		close(s.stop)
		s.wg.Wait()
		var errs []error
		if err := s.shards.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop shards: %w", err))
		}
		if _, err := s.writer.Ask(ctx, archive.Flush{}); err != nil {
			errs = append(errs, fmt.Errorf("flush archive: %w", err))
		}
		if err := s.sys.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop actors: %w", err))
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}
