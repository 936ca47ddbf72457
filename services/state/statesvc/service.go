package statesvc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.opentelemetry.io/otel/metric"
	"google.golang.org/grpc"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/services/state/internal/archive"
	"github.com/pianorhythm/server/services/state/internal/engine"
	"github.com/pianorhythm/server/services/state/internal/live"
	"github.com/pianorhythm/server/services/state/internal/server"
)

// Service is a running state service (PianoRhythmState): request handlers
// that own nothing (ordinary concurrent code over atomic Redis scripts),
// the archive writer actor that owns the batch on its way to MongoDB, a
// retry ticker and the watcher that restores an emptied Redis. Close stops
// them.
type Service struct {
	cfg    Config
	log    *slog.Logger
	sys    *actor.System
	writer *actor.Ref
	eng    *engine.Engine
	srv    *server.Server

	stop      chan struct{}
	cancel    context.CancelFunc
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

	var dropped metric.Int64Counter // none without a meter
	if deps.Meter != nil {
		var err error
		dropped, err = deps.Meter.Int64Counter("state.archive.dropped",
			metric.WithDescription("archive writes dropped because MongoDB stayed unavailable past the pending limit"))
		if err != nil {
			return nil, fmt.Errorf("start state service: %w", err)
		}
	}

	s := &Service{cfg: cfg, log: log, stop: make(chan struct{})}
	s.sys = actor.NewSystem(actor.Config{Logger: log, Meter: deps.Meter, OnPanic: deps.OnPanic, OnGiveUp: deps.OnGiveUp})
	var err error
	s.writer, err = s.sys.Spawn(actor.Props{
		Kind: "state-archive",
		Name: "state-archive",
		New: archive.NewWriter(archive.WriterConfig{
			Archive: arch, Logger: log, OpTimeout: cfg.OpTimeout, KeepRevoked: cfg.RevokedFamilyTTL, Now: cfg.Now,
			Dropped: dropped,
		}),
		MailboxSize: 10 * cfg.ChatBatchSize,
		BatchSize:   cfg.ChatBatchSize,
	})
	if err != nil {
		_ = s.sys.Shutdown(ctx)
		return nil, fmt.Errorf("start archive writer: %w", err)
	}
	s.eng = &engine.Engine{
		Live:     live.New(deps.Redis, cfg.KeyPrefix, cfg.ChatHistory),
		Archive:  arch,
		Writer:   s.writer,
		Now:      cfg.Now,
		ChatKeep: cfg.ChatHistory,
		Logger:   log,
	}
	// Rooms come back before the first request when Redis starts empty
	// (always, for the embedded one). Not fatal: the watcher retries.
	if err := s.eng.EnsureRestored(ctx); err != nil {
		log.Warn("restore rooms from the archive at start", "err", err)
	}
	s.srv = server.New(server.Config{ChatHistory: cfg.ChatHistory, OpTimeout: cfg.OpTimeout, Now: cfg.Now}, s.eng)
	var watchCtx context.Context
	watchCtx, s.cancel = context.WithCancel(context.Background())
	s.wg.Add(2)
	go s.tick()
	go func() {
		defer s.wg.Done()
		s.eng.Watch(watchCtx, cfg.RestoreCheckInterval)
	}()
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

// Ready reports whether the service can work: its actor system has given
// up on nothing and the archive writer answers within ctx's deadline.
func (s *Service) Ready(ctx context.Context) error {
	return s.sys.Check(ctx, s.writer)
}

// Register registers the StateService on g.
func (s *Service) Register(g *grpc.Server) { pb.RegisterStateServiceServer(g, s.srv) }

// Server returns the StateService implementation, for callers in the same
// process that skip the network.
func (s *Service) Server() pb.StateServiceServer { return s.srv }

// Close stops the watcher and the ticker, writes what is pending to
// MongoDB and stops every actor, waiting until ctx is done at most. Stop
// the gRPC server first. Calling it again returns the first result.
func (s *Service) Close(ctx context.Context) error {
	s.closeOnce.Do(func() {
		close(s.stop)
		s.cancel()
		s.wg.Wait()
		var errs []error
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
