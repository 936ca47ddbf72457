package analyticssvc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/pkg/telemetry"
	"github.com/pianorhythm/server/services/analytics/internal/events"
	"github.com/pianorhythm/server/services/analytics/internal/keys"
	"github.com/pianorhythm/server/services/analytics/internal/ledger"
	"github.com/pianorhythm/server/services/analytics/internal/server"
	"github.com/pianorhythm/server/services/analytics/internal/songs"
	"github.com/pianorhythm/server/services/analytics/internal/userstats"
)

// Service is a running analytics service: three tracker actors and the
// stream reader goroutine. Close stops them.
type Service struct {
	cfg     Config
	log     *slog.Logger
	sys     *actor.System
	tracker *actor.Ref
	actors  []*actor.Ref // the three trackers, for Ready
	srv     *server.Server

	stopReader context.CancelFunc
	readerDone chan struct{}
	closeOnce  sync.Once
	closeErr   error
}

// New prepares the stores (song index, seed songs, consumer group) and
// starts the trackers and the stream reader. The caller registers it on a
// gRPC server with Register and must Close it.
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
		log = slog.Default()
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.StartTimeout)
	defer cancel()

	catalogue := songs.NewCatalogue(deps.Mongo)
	if err := catalogue.EnsureIndexes(ctx); err != nil {
		return nil, fmt.Errorf("start analytics: %w", err)
	}
	if !cfg.NoSeed {
		if err := catalogue.Seed(ctx, songs.Seed(), cfg.Now()); err != nil {
			return nil, fmt.Errorf("start analytics: seed songs: %w", err)
		}
	}
	k := keys.New(cfg.KeyPrefix)
	boards := userstats.NewBoards(deps.Redis, k, deps.Mongo)
	users := userstats.NewStore(deps.Mongo, boards, publisher(deps.Redis, k, log), log)
	songStats := songs.NewStats(deps.Mongo)
	newLedger := func(tracker string, plan ledger.Plan, after ledger.After) *ledger.Ledger {
		return ledger.New(ledger.Config{
			DB: deps.Mongo, Tracker: tracker, Plan: plan, After: after,
			StaleAfter: cfg.staleAfter(), SeenTTL: cfg.SeenTTL, Now: cfg.Now, Logger: log,
		})
	}
	countsLedger := newLedger("counts", events.CountsPlan, nil)
	usersLedger := newLedger("users", users.Plan, users.After)
	songsLedger := newLedger("songs", songs.Plan, nil)
	for _, ensure := range []func(context.Context) error{countsLedger.EnsureIndexes, users.EnsureIndexes, songStats.EnsureIndexes} {
		if err := ensure(ctx); err != nil {
			return nil, fmt.Errorf("start analytics: %w", err)
		}
	}

	s := &Service{cfg: cfg, log: log, readerDone: make(chan struct{})}
	s.sys = actor.NewSystem(actor.Config{Logger: log, Meter: deps.Meter, OnPanic: deps.OnPanic, OnGiveUp: deps.OnGiveUp})
	fail := func(err error) (*Service, error) {
		_ = s.sys.Shutdown(ctx)
		return nil, fmt.Errorf("start analytics: %w", err)
	}
	userTracker, err := s.sys.Spawn(actor.Props{
		Kind: "analytics-user-stats", Name: "UserStatsTracker",
		New: userstats.NewTracker(usersLedger, cfg.OpTimeout),
	})
	if err != nil {
		return fail(err)
	}
	songTracker, err := s.sys.Spawn(actor.Props{
		Kind: "analytics-sheet-music", Name: "SheetMusicStatsTracker",
		New: songs.NewTracker(songs.TrackerConfig{Catalogue: catalogue, Stats: songStats, Ledger: songsLedger, OpTimeout: cfg.OpTimeout, Now: cfg.Now}),
	})
	if err != nil {
		return fail(err)
	}
	s.tracker, err = s.sys.Spawn(actor.Props{
		Kind: "analytics-tracker", Name: "AnalyticsTracker",
		New: events.NewTracker(events.TrackerConfig{
			Client: deps.Redis, Stream: cfg.Stream, Group: cfg.Group, Counts: countsLedger,
			Sinks:     []*actor.Ref{userTracker, songTracker},
			OpTimeout: cfg.OpTimeout, Logger: log, SkipAck: cfg.skipAck,
		}),
		// Room for a few batches, so the reader reads the next one while
		// the tracker applies this one.
		MailboxSize: 4 * cfg.BatchSize,
		BatchSize:   cfg.BatchSize,
		// A batch is retried by the reader (claim), not by the actor.
		MaxRetries: -1,
	})
	if err != nil {
		return fail(err)
	}
	s.actors = []*actor.Ref{s.tracker, userTracker, songTracker}
	// Batches a dead process left half applied are finished first (those
	// already stale). A failure does not stop the start: the reader sweeps
	// again on every ClaimInterval, and counting stays exact meanwhile,
	// since each event is claimed by one journal only. (A slow MongoDB must
	// not keep the service down: it once made a restart fail on a sweep
	// that outgrew its timeout.)
	if _, err := s.tracker.Ask(ctx, events.Sweep{}); err != nil {
		log.Warn("recovering unfinished analytics batches at start failed; retrying on the next sweep", "err", err)
	}

	reader := events.NewReader(events.ReaderConfig{
		Client: deps.Redis, Stream: cfg.Stream, Group: cfg.Group, Consumer: cfg.Consumer,
		BatchSize: cfg.BatchSize, Block: cfg.BlockTime,
		ClaimIdle: cfg.ClaimIdle, ClaimInterval: cfg.ClaimInterval, RetryBackoff: cfg.BlockTime,
		Tracker: s.tracker, Logger: log,
	})
	if err := reader.EnsureGroup(ctx); err != nil {
		return fail(err)
	}
	s.srv = server.New(server.Config{
		Redis: deps.Redis, Stream: cfg.Stream, StreamMaxLen: cfg.StreamMaxLen,
		Counts: events.NewCounts(deps.Mongo), Users: users, Catalogue: catalogue, SongStats: songStats, Songs: songTracker,
		OpTimeout: cfg.OpTimeout, Now: cfg.Now, Logger: log,
	})

	rctx, stop := context.WithCancel(context.Background())
	s.stopReader = stop
	go func() {
		defer close(s.readerDone)
		_ = reader.Run(rctx)
	}()
	return s, nil
}

// Ready reports whether the service can work: its actor system has given
// up on nothing and the three trackers answer within ctx's deadline.
func (s *Service) Ready(ctx context.Context) error {
	return s.sys.Check(ctx, s.actors...)
}

// Register registers the AnalyticsService on g.
func (s *Service) Register(g *grpc.Server) { pb.RegisterAnalyticsServiceServer(g, s.srv) }

// Server returns the AnalyticsService implementation, for callers in the
// same process that skip the network.
func (s *Service) Server() pb.AnalyticsServiceServer { return s.srv }

// Close stops the stream reader (within BlockTime), lets the trackers
// apply and acknowledge what was already read, and stops every actor,
// waiting until ctx is done at most. What is left unacknowledged is
// claimed by the next start. Stop the gRPC server first. Calling it again
// returns the first result.
func (s *Service) Close(ctx context.Context) error {
	s.closeOnce.Do(func() {
		var errs []error
		s.stopReader()
		select {
		case <-s.readerDone:
			if _, err := s.tracker.Ask(ctx, events.Sync{}); err != nil {
				errs = append(errs, fmt.Errorf("drain tracker: %w", err))
			}
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("stop stream reader: %w", ctx.Err()))
		}
		if err := s.sys.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop actors: %w", err))
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// publisher sends UserEvents on the user's channel, as the state service
// does (proto bytes on <prefix>user:<id>); a lost notification is logged,
// the achievement itself is stored.
func publisher(rdb redis.UniversalClient, k keys.Keys, log *slog.Logger) userstats.Publisher {
	return func(ctx context.Context, ev *pb.UserEvent) {
		if ev.EventId == "" {
			ev.EventId = uuid.NewString()
		}
		if ev.Trace == nil {
			ev.Trace = telemetry.InjectMap(ctx)
		}
		b, err := proto.Marshal(ev)
		if err == nil {
			err = rdb.Publish(ctx, k.UserChannel(ev.GetUserId()), b).Err()
		}
		if err != nil {
			log.WarnContext(ctx, "achievement notification not sent", "user", ev.GetUserId(), "err", err)
		}
	}
}
