package actor

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
)

// Ref is the address of a running actor and the actor's runtime state. Its
// methods are safe for concurrent use; the fields below the "owned by the
// actor goroutine" line are touched only by that goroutine.
type Ref struct {
	sys   *System
	sup   *Supervisor
	props Props
	name  string
	stats *kindStats

	user    *mailbox
	prio    *mailbox // nil unless Props.PriorityLane
	done    chan struct{}
	stopped atomic.Bool
	drainMu sync.Mutex // serializes readers of the lanes once stopped

	// idle is set while the actor waits for a message; a sender that sees
	// it signals wake (capacity 1), or, with Props.ReleaseWhenIdle, starts
	// the goroutine the actor gave back.
	idle atomic.Bool
	wake chan struct{}
	// incarnation counts starts, so a supervisor can ignore failure reports
	// about an instance it has already replaced.
	incarnation atomic.Uint64

	sysMu     sync.Mutex
	sysQ      []sysMsg
	sysClosed bool
	sysN      atomic.Int32
	sysSig    chan struct{}

	watchMu   sync.Mutex
	watchers  []*Ref
	afterStop []func()
	ended     bool
	reason    error

	supState childState // owned by the supervisor's goroutine

	// owned by the actor goroutine
	logger   *slog.Logger // made by log, at the first use
	actor    Actor
	batcher  BatchReceiver
	cctx     Context
	front    []*envelope // delivered before the lanes: Terminated notices, an Ask met while batching
	pending  []*envelope // the unit that panicked, retried first
	batched  bool        // pending is a batch
	retries  int
	one      [1]*envelope
	slot     envelope   // holds a bare message being handled
	slots    []envelope // hold bare messages of a batch
	batchBuf []*envelope
	msgBuf   []any
	batchEnv envelope
	handled  int64 // not yet added to the handled counter
	tick     uint  // clock-sampling counter
}

// log is the actor's logger, made when first needed: most actors never
// log, and a logger with attributes was a kilobyte per connection actor.
// Actor goroutine only.
func (r *Ref) log() *slog.Logger {
	if r.logger == nil {
		r.logger = r.sys.logger.With("actor", r.name, "kind", r.props.Kind)
	}
	return r.logger
}

// Name returns the actor's name (Props.Name or a generated one).
func (r *Ref) Name() string { return r.name }

// String implements fmt.Stringer for logs.
func (r *Ref) String() string { return r.name }

// Done is closed once the actor has stopped for good.
func (r *Ref) Done() <-chan struct{} { return r.done }

// Tell queues msg on the user lane. It returns nil once the message is
// queued, ErrStopped if the actor has stopped, and otherwise what the
// Overflow policy says when the lane is full.
func (r *Ref) Tell(ctx context.Context, msg any) error {
	if bare(ctx) {
		return r.enqueue(ctx, r.user, msg, false, r.props.Overflow)
	}
	return r.enqueue(ctx, r.user, getEnvelope(ctx, msg), false, r.props.Overflow)
}

// TryTell is a Tell that never waits: it returns ErrMailboxFull at once when
// the user lane is full, whatever the actor's Overflow policy (the message
// is not queued and not published as a dead letter: the caller knows and
// decides), and ErrStopped when the actor has stopped. A dispatcher that
// feeds many actors from one goroutine uses it so that one full actor
// cannot stall the others.
func (r *Ref) TryTell(ctx context.Context, msg any) error {
	if bare(ctx) {
		return r.enqueue(ctx, r.user, msg, false, FailFast)
	}
	return r.enqueue(ctx, r.user, getEnvelope(ctx, msg), false, FailFast)
}

// TellPriority queues msg on the priority lane, read before the user lane.
// Without Props.PriorityLane it is Tell.
func (r *Ref) TellPriority(ctx context.Context, msg any) error {
	lane := r.prio
	if lane == nil {
		lane = r.user
	}
	if bare(ctx) {
		return r.enqueue(ctx, lane, msg, false, r.props.Overflow)
	}
	return r.enqueue(ctx, lane, getEnvelope(ctx, msg), false, r.props.Overflow)
}

// Ask sends msg and waits for the actor's Respond until ctx is done. A reply
// that arrives later is dropped. If ctx ends before the actor takes the
// message, the message is never handled: it becomes a DeadLetter with
// ReasonExpired. The handler sees ctx itself as Context.Context. Errors:
// ctx.Err() when ctx ends, ErrMailboxFull, ErrStopped, ErrNoReply, a
// *PanicError for a poison message or the error the actor responded with.
// Asking an actor from itself deadlocks until ctx ends.
func (r *Ref) Ask(ctx context.Context, msg any) (any, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	f := futurePool.Get().(*future)
	g := f.gen.Load()
	e := getEnvelope(ctx, msg)
	e.fut, e.gen = f, g
	if err := r.enqueue(ctx, r.user, e, true, r.props.Overflow); err != nil {
		f.release(g)
		return nil, err
	}
	done := ctx.Done()
	if done == nil {
		// A context that never ends (Background): a plain receive is
		// cheaper than a select.
		rep := <-f.ch
		futurePool.Put(f)
		return rep.v, rep.err
	}
	select {
	case rep := <-f.ch:
		futurePool.Put(f)
		return rep.v, rep.err
	case <-done:
		if f.gen.CompareAndSwap(g, g+1) {
			futurePool.Put(f)
			return nil, ctx.Err()
		}
		// The reply won the race with the deadline: it is in flight, use it.
		rep := <-f.ch
		futurePool.Put(f)
		return rep.v, rep.err
	}
}

// release returns a slot whose Ask was never queued; a dead-letter path may
// have answered it meanwhile.
func (f *future) release(g uint64) {
	if !f.gen.CompareAndSwap(g, g+1) {
		<-f.ch
	}
	futurePool.Put(f)
}

// Ask is Ref.Ask with the reply converted to T. A nil reply gives T's zero
// value.
func Ask[T any](ctx context.Context, r *Ref, msg any) (T, error) {
	var zero T
	v, err := r.Ask(ctx, msg)
	if err != nil || v == nil {
		return zero, err
	}
	t, ok := v.(T)
	if !ok {
		return zero, fmt.Errorf("actor: ask %s: reply is %T, want %T", r.name, v, zero)
	}
	return t, nil
}

// Stop asks the actor to stop after its current message, via the system
// lane, and waits until it has stopped or ctx is done. Queued messages
// become dead letters. Stopping a stopped actor returns nil.
func (r *Ref) Stop(ctx context.Context) error {
	r.postSystem(sysMsg{kind: sysStop})
	return waitDone(ctx, r.done)
}

// Ping checks that the actor's goroutine is responsive: it is answered from
// the system lane, ahead of queued user messages, between two messages.
func (r *Ref) Ping(ctx context.Context) error {
	ack := make(chan error, 1)
	r.postSystem(sysMsg{kind: sysPing, reply: func(err error) { ack <- err }})
	select {
	case err := <-ack:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Watch makes watcher receive Terminated{Ref: r} (through its system lane,
// so it is never dropped) when r stops; at once if r has already stopped.
func (r *Ref) Watch(watcher *Ref) {
	r.watchMu.Lock()
	if !r.ended {
		r.watchers = append(r.watchers, watcher)
		r.watchMu.Unlock()
		return
	}
	reason := r.reason
	r.watchMu.Unlock()
	watcher.postSystem(sysMsg{kind: sysTerminated, ref: r, err: reason})
}

// AfterStop arranges for f to be called once the actor has stopped for
// good, with no goroutine waiting meanwhile (what a select on Done would
// hold); at once if it has stopped already. f runs on the stopping actor's
// goroutine and must not block.
func (r *Ref) AfterStop(f func()) {
	r.watchMu.Lock()
	if !r.ended {
		r.afterStop = append(r.afterStop, f)
		r.watchMu.Unlock()
		return
	}
	r.watchMu.Unlock()
	f()
}

// Unwatch undoes Watch.
func (r *Ref) Unwatch(watcher *Ref) {
	r.watchMu.Lock()
	defer r.watchMu.Unlock()
	for i, w := range r.watchers {
		if w == watcher {
			r.watchers = append(r.watchers[:i], r.watchers[i+1:]...)
			return
		}
	}
}

// enqueue puts v (a bare message or an *envelope) on lane or disposes of
// it; the caller must not touch it afterwards. policy is what to do when
// the lane is full (the actor's, or FailFast for TryTell and Forward); ask
// selects Ask semantics for DropNewest.
func (r *Ref) enqueue(ctx context.Context, lane *mailbox, v any, ask bool, policy Overflow) error {
	if r.stopped.Load() {
		r.reject(v, ReasonStopped, ErrStopped)
		return ErrStopped
	}
	if !lane.push(v) {
		switch policy {
		case FailFast:
			release(v)
			return ErrMailboxFull
		case DropNewest:
			r.reject(v, ReasonDropped, ErrMailboxFull)
			if ask {
				return ErrMailboxFull
			}
			return nil
		}
		if err := r.waitPush(ctx, lane, v); err != nil {
			return err
		}
	}
	r.notify()
	// The actor may have stopped and drained its lanes between the check
	// above and the push: then nobody else will ever read this message.
	if r.stopped.Load() {
		r.drainLanes()
	}
	return nil
}

// blockSpins is how many times a blocked sender yields and rechecks for
// room before it parks.
const blockSpins = 20

// waitPush waits for room in a full lane (Overflow Block) until ctx ends or
// the actor stops.
func (r *Ref) waitPush(ctx context.Context, lane *mailbox, v any) error {
	if ctx == nil {
		ctx = context.Background()
	}
	// A busy actor makes room within a message's handling time, far sooner
	// than a sleep and a wake-up: retry a little before parking, so a
	// sender that outpaces its actor does not park once per message.
	for range blockSpins {
		runtime.Gosched() // also keeps this sender off the reader's cache lines
		if lane.len() < int(lane.size) && !r.stopped.Load() && lane.push(v) {
			return nil
		}
	}
	// Registering before retrying the push means the reader either sees us
	// after taking a message, or we see the room it made.
	lane.blocked.Add(1)
	for {
		if r.stopped.Load() {
			lane.blocked.Add(-1)
			r.reject(v, ReasonStopped, ErrStopped)
			return ErrStopped
		}
		if lane.push(v) {
			// The reader signals once per message taken, and a signal can
			// be absorbed by the one already pending: pass it on.
			if lane.blocked.Add(-1) > 0 && lane.len() < int(lane.size) {
				lane.signalSpace()
			}
			return nil
		}
		select {
		case <-lane.space:
		case <-ctx.Done():
			lane.blocked.Add(-1)
			release(v)
			return ctx.Err()
		case <-r.done:
			lane.blocked.Add(-1)
			r.reject(v, ReasonStopped, ErrStopped)
			return ErrStopped
		}
	}
}

// notify wakes the actor if it is waiting for a message, or gives it a
// goroutine again if it released its own.
func (r *Ref) notify() {
	if r.idle.Load() {
		if r.props.ReleaseWhenIdle {
			if r.idle.CompareAndSwap(true, false) {
				go r.resume()
			}
			return
		}
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
}

// reject dead-letters a message that was not queued; its sender learns
// the outcome from the returned error, so an Ask is not answered here.
func (r *Ref) reject(v any, reason string, err error) {
	var slot envelope
	r.sys.deadLetter(r, unpack(v, &slot), reason, err, false)
}

func release(v any) {
	if e, ok := v.(*envelope); ok {
		putEnvelope(e)
	}
}

// drainLanes turns every queued message into a "stopped" dead letter. It
// runs only once the actor has stopped, in the actor's goroutine or in a
// sender that raced with the stop.
func (r *Ref) drainLanes() {
	r.drainMu.Lock()
	defer r.drainMu.Unlock()
	var slot envelope
	for {
		v, ok := r.prio.pop()
		if !ok {
			if v, ok = r.user.pop(); !ok {
				return
			}
		}
		r.sys.deadLetter(r, unpack(v, &slot), ReasonStopped, ErrStopped, true)
	}
}

func waitDone(ctx context.Context, done <-chan struct{}) error {
	select {
	case <-done:
		return nil
	default:
	}
	if ctx == nil {
		ctx = context.Background()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
