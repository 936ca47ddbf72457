package actor

import (
	"context"
	"fmt"
	"log/slog"
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

	user    chan any // bare messages and *envelope
	prio    chan any // nil unless Props.PriorityLane
	done    chan struct{}
	stopped atomic.Bool
	// incarnation counts starts, so a supervisor can ignore failure reports
	// about an instance it has already replaced.
	incarnation atomic.Uint64

	sysMu     sync.Mutex
	sysQ      []sysMsg
	sysClosed bool
	sysN      atomic.Int32
	sysSig    chan struct{}

	watchMu  sync.Mutex
	watchers []*Ref
	ended    bool
	reason   error

	logger *slog.Logger

	// owned by the actor goroutine
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
		return r.enqueue(ctx, r.user, msg, false)
	}
	return r.enqueue(ctx, r.user, getEnvelope(ctx, msg), false)
}

// TellPriority queues msg on the priority lane, read before the user lane.
// Without Props.PriorityLane it is Tell.
func (r *Ref) TellPriority(ctx context.Context, msg any) error {
	lane := r.prio
	if lane == nil {
		lane = r.user
	}
	if bare(ctx) {
		return r.enqueue(ctx, lane, msg, false)
	}
	return r.enqueue(ctx, lane, getEnvelope(ctx, msg), false)
}

// Ask sends msg and waits for the actor's Respond until ctx is done. A reply
// that arrives later is dropped. Errors: ctx.Err() on deadline,
// ErrMailboxFull, ErrStopped, ErrNoReply, a *PanicError for a poison message
// or the error the actor responded with. Asking an actor from itself
// deadlocks until ctx ends.
func (r *Ref) Ask(ctx context.Context, msg any) (any, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	f := futurePool.Get().(*future)
	g := f.gen.Load()
	e := getEnvelope(ctx, msg)
	e.fut, e.gen = f, g
	if err := r.enqueue(ctx, r.user, e, true); err != nil {
		f.release(g)
		return nil, err
	}
	select {
	case rep := <-f.ch:
		futurePool.Put(f)
		return rep.v, rep.err
	case <-ctx.Done():
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
	r.postSystem(sysMsg{kind: sysPing, ack: ack})
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
// it; the caller must not touch it afterwards. ask selects Ask semantics for
// DropNewest.
func (r *Ref) enqueue(ctx context.Context, lane chan any, v any, ask bool) error {
	if r.stopped.Load() {
		r.reject(v, ReasonStopped, ErrStopped)
		return ErrStopped
	}
	select {
	case lane <- v:
	default:
		switch r.props.Overflow {
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
		if ctx == nil {
			ctx = context.Background()
		}
		select {
		case lane <- v:
		case <-ctx.Done():
			release(v)
			return ctx.Err()
		case <-r.done:
			r.reject(v, ReasonStopped, ErrStopped)
			return ErrStopped
		}
	}
	// The actor may have stopped and drained its lanes between the check
	// above and the send: then nobody else will ever read this message.
	if r.stopped.Load() {
		r.drainLanes()
	}
	return nil
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

// drainLanes turns every queued message into a "stopped" dead letter.
func (r *Ref) drainLanes() {
	var slot envelope
	for {
		select {
		case v := <-r.prio:
			r.sys.deadLetter(r, unpack(v, &slot), ReasonStopped, ErrStopped, true)
		case v := <-r.user:
			if !isWake(v) {
				r.sys.deadLetter(r, unpack(v, &slot), ReasonStopped, ErrStopped, true)
			}
		default:
			return
		}
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
