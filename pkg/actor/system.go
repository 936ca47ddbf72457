package actor

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric"
)

// Config configures a System.
type Config struct {
	// Meter records the per-kind actor metrics; nil means a no-op meter.
	Meter metric.Meter
	// Logger receives panics, restarts and escalations; nil means discard.
	Logger *slog.Logger
	// OnPanic, if set, is called (from the actor's goroutine) with every
	// panic caught in an actor, for error reporting. It must not block.
	OnPanic func(kind string, value any, stack []byte)
	// OnGiveUp, if set, is called once (from the root supervisor's
	// goroutine) for every child the root supervisor gives up on, after the
	// GaveUp event is published; services report it to the error tracker.
	// It must not block.
	OnGiveUp func(GaveUp)

	// now, jitter and afterFunc are test seams: zero values mean time.Now,
	// math/rand/v2 and time.AfterFunc. afterFunc runs f once after d unless
	// the returned stop is called first.
	now       func() time.Time
	jitter    func() float64
	afterFunc func(d time.Duration, f func()) (stop func() bool)
}

func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.jitter == nil {
		c.jitter = rand.Float64
	}
	if c.afterFunc == nil {
		c.afterFunc = func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
	}
	return c
}

// System owns a tree of supervisors and actors and every goroutine they
// run. It is safe for concurrent use. Shutdown must be called to release
// it.
type System struct {
	cfg     Config
	ctx     context.Context // for metric calls only
	logger  *slog.Logger
	onPanic func(kind string, value any, stack []byte)
	events  *EventStream
	metrics *metrics
	root    *Supervisor
	wg      sync.WaitGroup
	seq     atomic.Uint64

	mu    sync.Mutex
	cells map[*Ref]struct{}

	errMu  sync.Mutex
	gaveUp []error // one per child the root gave up on, in order
}

// NewSystem starts a system with an empty root supervisor (one-for-one,
// default intensity).
func NewSystem(cfg Config) *System {
	cfg = cfg.withDefaults()
	s := &System{
		cfg:     cfg,
		ctx:     context.Background(),
		logger:  cfg.Logger,
		onPanic: cfg.OnPanic,
		events:  NewEventStream(),
		cells:   make(map[*Ref]struct{}),
	}
	s.metrics = newMetrics(cfg.Meter, s.observeDepth)
	s.root = newSupervisor(s, nil, SupervisorProps{Name: "root"})
	s.wg.Add(1)
	go s.root.run()
	return s
}

// Spawn starts an actor under the root supervisor and returns at once; the
// actor's Started hook runs in its own goroutine.
func (s *System) Spawn(p Props) (*Ref, error) { return s.root.Spawn(p) }

// SpawnSupervisor starts a supervisor under the root supervisor.
func (s *System) SpawnSupervisor(sp SupervisorProps) (*Supervisor, error) {
	return s.root.SpawnSupervisor(sp)
}

// Root returns the root supervisor.
func (s *System) Root() *Supervisor { return s.root }

// Events returns the system's event stream (dead letters, restarts,
// escalations, give-ups, and whatever the application publishes).
func (s *System) Events() *EventStream { return s.events }

// Logger returns the system's logger.
func (s *System) Logger() *slog.Logger { return s.logger }

// Shutdown stops every actor and supervisor, children before parents and
// later siblings first, and waits for all their goroutines. If ctx ends
// first (an actor stuck in Receive), it returns ctx.Err() and the stuck
// goroutines are left running.
func (s *System) Shutdown(ctx context.Context) error {
	s.root.terminate(nil)
	if err := waitDone(ctx, s.root.done); err != nil {
		return fmt.Errorf("actor: shutdown: %w", err)
	}
	s.wg.Wait() // every goroutine has closed its done channel: only returns are left
	return s.metrics.close()
}

// newRef builds an actor's runtime state; the caller starts its goroutine.
func (s *System) newRef(sup *Supervisor, p Props) (*Ref, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	p = p.withDefaults()
	n := s.seq.Add(1)
	name := p.Name
	if name == "" {
		name = fmt.Sprintf("%s-%d", p.Kind, n)
	}
	r := &Ref{
		sys:    s,
		sup:    sup,
		props:  p,
		name:   name,
		stats:  s.metrics.kind(p.Kind),
		user:   newMailbox(p.MailboxSize),
		done:   make(chan struct{}),
		sysSig: make(chan struct{}, 1),
		wake:   make(chan struct{}, 1),
	}
	if p.PriorityLane {
		r.prio = newMailbox(p.MailboxSize)
	}
	r.cctx.ref = r
	s.mu.Lock()
	s.cells[r] = struct{}{}
	s.mu.Unlock()
	return r, nil
}

func (s *System) unregister(r *Ref) {
	s.mu.Lock()
	delete(s.cells, r)
	s.mu.Unlock()
}

// observeDepth sums queued messages per kind for the depth gauge.
func (s *System) observeDepth(report func(kind string, depth int64)) {
	depth := make(map[string]int64)
	s.mu.Lock()
	for r := range s.cells {
		depth[r.props.Kind] += int64(r.user.len() + r.prio.len())
	}
	s.mu.Unlock()
	for k, d := range depth {
		report(k, d)
	}
}

// Dead-letter reasons.
const (
	// ReasonStopped: the actor had stopped, or stopped with the message
	// still queued.
	ReasonStopped = "stopped"
	// ReasonDropped: the mailbox was full under DropNewest.
	ReasonDropped = "dropped"
	// ReasonPoison: the message's handling panicked and it will not be
	// retried (not Idempotent, or out of retries).
	ReasonPoison = "poison"
	// ReasonExpired: an Ask whose context ended before the actor took it;
	// it was never handled.
	ReasonExpired = "expired"
)

// reasons lists every dead-letter reason, for the metric attributes.
var reasons = []string{ReasonStopped, ReasonDropped, ReasonPoison, ReasonExpired}

// deadLetter publishes and counts a message that will not be handled, and
// recycles its envelope. answer also fails the Ask it carries.
func (s *System) deadLetter(r *Ref, e *envelope, reason string, err error, answer bool) {
	r.stats.deadLetter(s.ctx, reason)
	s.events.Publish(DeadLetter{Target: r.name, Message: e.msg, Reason: reason, Err: err})
	if answer {
		e.answer(nil, err)
	}
	putEnvelope(e)
}
