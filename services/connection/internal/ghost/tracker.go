package ghost

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
)

// Config configures the GhostTracker.
type Config struct {
	// Self is this instance's id, never treated as dead. Required.
	Self string
	// Interval is the time between sweeps. Zero value means 5s.
	Interval time.Duration
	// DiscoverEvery: every n-th sweep also looks for instances that hold
	// room seats but were never seen alive (a walk over every room, too
	// costly for each sweep). Zero value means 12 (a minute at 5s).
	DiscoverEvery int
	// SweepTimeout bounds one sweep. Zero value means 30s.
	SweepTimeout time.Duration
}

func (c Config) withDefaults() Config {
	if c.Interval <= 0 {
		c.Interval = 5 * time.Second
	}
	if c.DiscoverEvery <= 0 {
		c.DiscoverEvery = 12
	}
	if c.SweepTimeout <= 0 {
		c.SweepTimeout = 30 * time.Second
	}
	return c
}

// Validate reports a configuration the tracker cannot run with.
func (c Config) Validate() error {
	if c.Self == "" {
		return errors.New("ghost: Self is required")
	}
	return nil
}

// Deps are the tracker's collaborators; all are required but Logger.
type Deps struct {
	System *actor.System
	State  pb.StateServiceClient
	Room   pb.RoomServiceClient
	User   pb.UserServiceClient
	// Logger; nil means discard.
	Logger *slog.Logger
}

// Sweep asks the tracker for one round; Discover adds the search for
// instances never seen alive. The ticker Tells it; Tracker.Sweep Asks it.
type Sweep struct{ Discover bool }

// Tracker runs the GhostTracker actor (Kind "ghost-tracker") and the
// ticker that drives it. Close stops both and waits.
type Tracker struct {
	ref    *actor.Ref
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// tracker is the actor. seen (instances known, alive or dead) and
// suspects (instances holding presence or seats without a heartbeat, by
// discovery passes) are rebuilt after a restart: discovery finds what a fresh
// instance never saw.
type tracker struct {
	cfg      Config
	deps     Deps
	base     context.Context // cancelled by Close: a running sweep ends
	seen     map[string]bool
	suspects map[string]int
}

var _ actor.Actor = (*tracker)(nil)

// Start spawns the GhostTracker in deps.System and starts its ticker.
func Start(cfg Config, deps Deps) (*Tracker, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.System == nil || deps.State == nil || deps.Room == nil || deps.User == nil {
		return nil, errors.New("ghost: System, State, Room and User are required")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	base, cancel := context.WithCancel(context.Background())
	ref, err := deps.System.Spawn(actor.Props{
		Kind: "ghost-tracker", Name: "ghost-tracker",
		New: func() actor.Actor {
			return &tracker{cfg: cfg, deps: deps, base: base, seen: make(map[string]bool), suspects: make(map[string]int)}
		},
		// One sweep queued at most: a tick that finds one waiting is
		// skipped (FailFast) rather than piling sweeps up behind a slow one.
		MailboxSize: 1, Overflow: actor.FailFast,
		MaxRetries: -1,
	})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("spawn ghost tracker: %w", err)
	}
	t := &Tracker{ref: ref, cancel: cancel}
	t.wg.Go(func() { t.tick(base, cfg) })
	return t, nil
}

func (t *Tracker) tick(ctx context.Context, cfg Config) {
	tk := time.NewTicker(cfg.Interval)
	defer tk.Stop()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
		}
		// ErrMailboxFull: the previous sweep is still running; skip.
		t.ref.Tell(context.Background(), Sweep{Discover: n%cfg.DiscoverEvery == 0})
	}
}

// Sweep runs one round now and returns its error.
func (t *Tracker) Sweep(ctx context.Context, discover bool) error {
	_, err := t.ref.Ask(ctx, Sweep{Discover: discover})
	return err
}

// Close stops the ticker, ends a running sweep and stops the actor.
func (t *Tracker) Close(ctx context.Context) error {
	t.cancel()
	t.wg.Wait()
	if err := t.ref.Stop(ctx); err != nil {
		return fmt.Errorf("stop ghost tracker: %w", err)
	}
	return nil
}

func (t *tracker) Receive(ac *actor.Context) {
	m, ok := ac.Message().(Sweep)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(t.base, t.cfg.SweepTimeout)
	defer cancel()
	err := t.sweep(ctx, m.Discover)
	if err != nil && t.base.Err() == nil {
		t.deps.Logger.Warn("ghost sweep", "err", err)
	}
	ac.Respond(err)
}
