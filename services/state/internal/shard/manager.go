package shard

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/services/state/internal/engine"
)

// Config configures a Manager.
type Config struct {
	// Shards is the number of shard actors; required (> 0).
	Shards int
	// MailboxSize bounds each shard's queue; zero value means 1000. A full
	// queue makes callers wait until their deadline.
	MailboxSize int
	// OpTimeout bounds one request inside a shard; zero value means 5s.
	OpTimeout time.Duration
	// MaxRestarts within Within before the shard supervisor escalates; zero
	// values mean 20 in 10s.
	MaxRestarts int
	Within      time.Duration
	// OnStarted, if set, is called by each shard after its Started hook
	// with its index and the number of persistent rooms it looked at
	// (tests use it to see restarts).
	OnStarted func(shard, rooms int)
}

// Manager owns the StateManager actor and the shard supervisor. It is safe
// for concurrent use.
type Manager struct {
	cfg     Config
	eng     *engine.Engine
	sup     *actor.Supervisor
	manager *actor.Ref
	shards  []*actor.Ref
}

// New starts cfg.Shards shard actors under a one-for-one supervisor of sys.
// Stop them with Stop (or by shutting sys down).
func New(sys *actor.System, eng *engine.Engine, cfg Config) (*Manager, error) {
	if cfg.Shards < 1 {
		return nil, errors.New("shard: Shards must be at least 1")
	}
	if cfg.OpTimeout <= 0 {
		cfg.OpTimeout = defaultOpTimeout
	}
	if cfg.MaxRestarts <= 0 {
		cfg.MaxRestarts = 20
	}
	if cfg.Within <= 0 {
		cfg.Within = 10 * time.Second
	}
	m := &Manager{cfg: cfg, eng: eng}
	sup, err := sys.SpawnSupervisor(actor.SupervisorProps{
		Name: "state-shards", Strategy: actor.OneForOne, MaxRestarts: cfg.MaxRestarts, Within: cfg.Within,
	})
	if err != nil {
		return nil, fmt.Errorf("start shard supervisor: %w", err)
	}
	m.sup = sup
	for i := range cfg.Shards {
		ref, err := sup.Spawn(actor.Props{
			Kind:        "state-shard",
			Name:        fmt.Sprintf("state-shard-%d", i),
			New:         func() actor.Actor { return &shardActor{index: i, m: m} },
			MailboxSize: cfg.MailboxSize,
		})
		if err != nil {
			_ = sup.Stop(context.Background())
			return nil, fmt.Errorf("start shard %d: %w", i, err)
		}
		m.shards = append(m.shards, ref)
	}
	// The StateManager is the service's entry point (PianoRhythmState of
	// the original). It forwards each request to the shard owning its key
	// and stays out of the reply path, so it costs one mailbox hop, not a
	// round trip; the shards do the work in parallel.
	queue := cfg.MailboxSize
	if queue <= 0 {
		queue = 1000
	}
	m.manager, err = sup.Spawn(actor.Props{
		Kind:        "state-manager",
		Name:        "state-manager",
		New:         func() actor.Actor { return &stateManager{m: m} },
		MailboxSize: queue * cfg.Shards,
	})
	if err != nil {
		_ = sup.Stop(context.Background())
		return nil, fmt.Errorf("start state manager: %w", err)
	}
	return m, nil
}

// stateManager routes requests to shards.
type stateManager struct{ m *Manager }

func (s *stateManager) Receive(c *actor.Context) {
	j, ok := c.Message().(job)
	if !ok {
		return
	}
	if err := c.Forward(s.m.shards[s.m.route(j.key)]); err != nil {
		c.Respond(fmt.Errorf("route to shard: %w", err))
	}
}

// Do runs fn on the shard that owns key and returns its result. Requests
// with one key run one at a time, in the order they were made.
func Do[T any](ctx context.Context, m *Manager, key string, fn func(ctx context.Context) (T, error)) (T, error) {
	var zero T
	v, err := m.manager.Ask(ctx, job{key: key, run: func(ctx context.Context) (any, error) { return fn(ctx) }})
	if err != nil {
		return zero, err
	}
	t, _ := v.(T)
	return t, nil
}

// Shard returns the index of the shard that owns key.
func (m *Manager) Shard(key string) int { return m.route(key) }

// Refs returns the shard actors, by index.
func (m *Manager) Refs() []*actor.Ref { return append([]*actor.Ref(nil), m.shards...) }

// Stop stops the shards and their supervisor and waits.
func (m *Manager) Stop(ctx context.Context) error { return m.sup.Stop(ctx) }

// route is the consistent hash of key over the shards (the actor kernel's
// hash pool routing): stable for a given shard count, and moving few keys
// when it changes.
func (m *Manager) route(key string) int {
	return actor.KeyIndex(key, m.cfg.Shards)
}
