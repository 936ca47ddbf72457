package actor

import (
	"errors"
	"runtime/debug"
	"time"
)

// sysKind is the closed set of system-lane messages.
type sysKind uint8

const (
	sysStop       sysKind = iota // stop for good (err is the Terminated reason)
	sysSuspend                   // supervisor: drop the instance, keep the mailbox
	sysResume                    // supervisor: build a new instance
	sysPing                      // health check
	sysTerminated                // a watched actor stopped
)

type sysMsg struct {
	kind sysKind
	// reply, if set, is called once with the outcome, from the actor's
	// goroutine (or from whoever finds the actor stopped). It must not
	// block: a supervisor's reply posts an event to its own inbox.
	reply func(error)
	ref   *Ref // sysTerminated: who stopped
	err   error
}

// flushEvery bounds how many handled messages are counted locally before
// they are added to the metric, so a busy actor pays the instrument rarely.
const flushEvery = 256

// sampleEvery: only one message in sampleEvery (the first, the 65th, ...)
// has its processing time measured, because reading the clock twice costs
// more than the rest of a message handoff (profiled: 1 in 16 was a fifth of
// the actor's time per message). The histogram keeps its shape; the handled
// counter stays exact.
const sampleEvery = 64

// postSystem queues m on the system lane. The lane is unbounded because its
// senders (supervisors, watchers, Stop) must never block or lose a message,
// and there are only a handful of them.
func (r *Ref) postSystem(m sysMsg) {
	r.sysMu.Lock()
	if r.sysClosed {
		r.sysMu.Unlock()
		r.rejectSystem(m)
		return
	}
	r.sysQ = append(r.sysQ, m)
	r.sysN.Add(1)
	r.sysMu.Unlock()
	select {
	case r.sysSig <- struct{}{}:
	default:
	}
	r.notify()
}

func (r *Ref) popSystem() (sysMsg, bool) {
	r.sysMu.Lock()
	defer r.sysMu.Unlock()
	if len(r.sysQ) == 0 {
		return sysMsg{}, false
	}
	m := r.sysQ[0]
	r.sysQ[0] = sysMsg{}
	r.sysQ = r.sysQ[1:]
	r.sysN.Add(-1)
	return m, true
}

// rejectSystem answers a system message that reached a stopped actor.
func (r *Ref) rejectSystem(m sysMsg) {
	if m.reply == nil {
		return
	}
	if m.kind == sysStop {
		m.reply(nil)
		return
	}
	m.reply(ErrStopped)
}

// run is the actor's first goroutine: it builds the instance and handles
// messages. An actor with Props.ReleaseWhenIdle may end it while idle; the
// sender that finds it so starts the next one (resume).
func (r *Ref) run() {
	r.start()
	r.resume()
}

// resume runs the loop on this goroutine until the actor stops (it is then
// terminated here) or gives its goroutine back.
func (r *Ref) resume() {
	if reason, stopped := r.loop(); stopped {
		r.terminate(reason)
		r.sys.wg.Done() // the actor's count, taken when it was adopted
	}
}

// loop handles messages until the actor must stop (stopped, with the
// Terminated reason) or, with Props.ReleaseWhenIdle, has nothing to do.
func (r *Ref) loop() (reason error, stopped bool) {
	for {
		if r.sysN.Load() > 0 {
			if m, ok := r.popSystem(); ok {
				if stop, reason := r.handleSystem(m); stop {
					return reason, true
				}
			}
			continue
		}
		if r.actor == nil {
			// Suspended after a failure: only the supervisor can go on.
			if r.props.ReleaseWhenIdle {
				if !r.release(func() bool { return r.sysN.Load() > 0 }) {
					return nil, false
				}
				continue
			}
			<-r.sysSig
			continue
		}
		switch {
		case len(r.pending) > 0:
			r.process(r.pending, r.batched, true)
		case len(r.front) > 0:
			e := r.front[0]
			r.front[0] = nil
			r.front = r.front[1:]
			r.one[0] = e
			r.process(r.one[:], false, true)
		case !r.receiveReady():
			r.flushHandled()
			if r.props.ReleaseWhenIdle {
				if !r.release(r.hasWork) {
					return nil, false
				}
				continue
			}
			r.park()
			continue
		}
		if r.cctx.stop {
			r.cctx.stop = false
			r.stopInstance()
			return nil, true
		}
	}
}

// receiveReady handles one message if a lane has one, priority first.
func (r *Ref) receiveReady() bool {
	if v, ok := r.prio.pop(); ok {
		r.deliverOne(v, r.sample())
		return true
	}
	v, ok := r.user.pop()
	if !ok {
		return false
	}
	r.deliver(v, r.sample())
	return true
}

// park waits until a lane or the system lane may have something. Senders
// check idle after publishing a message, and park checks the lanes after
// setting idle, so one of the two always sees the other.
func (r *Ref) park() {
	r.idle.Store(true)
	if r.sysN.Load() == 0 && r.user.empty() && r.prio.empty() {
		<-r.wake
	}
	r.idle.Store(false)
}

// hasWork reports whether a lane or the system lane has something.
func (r *Ref) hasWork() bool {
	return r.sysN.Load() > 0 || !r.user.empty() || !r.prio.empty()
}

// release gives the goroutine back (false) unless work arrived meanwhile,
// which it then keeps (true). The idle flag is the right to run the actor:
// whoever turns it from true to false runs it, here or a sender in notify.
func (r *Ref) release(work func() bool) bool {
	r.idle.Store(true)
	if !work() {
		return false
	}
	return r.idle.CompareAndSwap(true, false)
}

func (r *Ref) sample() bool {
	r.tick++
	return r.tick%sampleEvery == 1
}

// deliverOne handles one lane item on its own.
func (r *Ref) deliverOne(v any, timed bool) {
	r.one[0] = unpack(v, &r.slot)
	r.process(r.one[:], false, timed)
}

// deliver handles an item from the user lane, gathering a batch when the
// actor takes batches and the item is a Tell.
func (r *Ref) deliver(v any, timed bool) {
	if r.batcher == nil {
		r.deliverOne(v, timed)
		return
	}
	if e, ok := v.(*envelope); ok && e.fut != nil {
		r.deliverOne(v, timed)
		return
	}
	if len(r.slots) < r.props.BatchSize {
		r.slots = make([]envelope, r.props.BatchSize)
	}
	batch := append(r.batchBuf[:0], unpack(v, &r.slots[0]))
	for len(batch) < r.props.BatchSize {
		next, ok := r.user.pop()
		if !ok {
			break
		}
		if e, ok := next.(*envelope); ok && e.fut != nil {
			// Asks are answered one by one, right after the batch.
			r.front = append(r.front, e)
			break
		}
		batch = append(batch, unpack(next, &r.slots[len(batch)]))
	}
	r.batchBuf = batch
	r.process(batch, len(batch) > 1, true)
}

// process hands one unit (a message or a batch) to the actor and settles
// it; timed says whether to measure its processing time.
func (r *Ref) process(unit []*envelope, batch, timed bool) {
	if !batch && expired(unit[0]) {
		// The asker has given up (or will see its deadline before any
		// reply): handling it would be work nobody waits for.
		r.sys.deadLetter(r, unit[0], ReasonExpired, unit[0].ctx.Err(), true)
		r.retries, r.pending, r.batched = 0, nil, false
		return
	}
	r.cctx.attempt = r.retries
	var start time.Time
	if timed {
		start = time.Now()
	}
	err := r.invoke(unit, batch)
	if timed {
		r.stats.duration.Record(r.sys.ctx, time.Since(start).Seconds(), r.stats.recordOpts...)
	}
	if err == nil {
		for _, e := range unit {
			if e.pending() {
				e.answer(nil, ErrNoReply)
			}
			putEnvelope(e)
		}
		r.handled += int64(len(unit))
		if r.handled >= flushEvery {
			r.flushHandled()
		}
		r.retries, r.pending, r.batched = 0, nil, false
		return
	}
	if r.retries < r.props.MaxRetries && retryable(unit) {
		r.retries++
		r.pending, r.batched = unit, batch
	} else {
		for _, e := range unit {
			r.sys.deadLetter(r, e, ReasonPoison, err, true)
		}
		r.retries, r.pending, r.batched = 0, nil, false
	}
	r.crash(err)
}

// expired reports whether e is an Ask whose asker's context has ended.
// Tells are fire-and-forget and never expire.
func expired(e *envelope) bool {
	return e.fut != nil && e.ctx != nil && e.ctx.Err() != nil
}

// invoke calls the actor, turning a panic into a *PanicError.
func (r *Ref) invoke(unit []*envelope, batch bool) (err error) {
	c := &r.cctx
	defer func() {
		c.env = nil
		if p := recover(); p != nil {
			err = r.panicked(p)
		}
	}()
	c.env = unit[0]
	if batch {
		msgs := r.msgBuf[:0]
		for _, e := range unit {
			msgs = append(msgs, e.msg)
		}
		r.msgBuf = msgs
		r.batchEnv.ctx = unit[0].ctx // no Message, no Respond in a batch
		c.env = &r.batchEnv
		r.batcher.ReceiveBatch(c, msgs)
		clear(msgs)
		r.batchEnv.ctx = nil
		return nil
	}
	r.actor.Receive(c)
	return nil
}

func (r *Ref) panicked(p any) error {
	pe := &PanicError{Value: p, Stack: debug.Stack()}
	r.log().Error("actor panicked", "panic", p)
	if r.sys.onPanic != nil {
		r.sys.onPanic(r.props.Kind, p, pe.Stack)
	}
	return pe
}

// crash drops the broken instance and tells the supervisor, which will
// resume (or stop) this actor through the system lane.
func (r *Ref) crash(err error) {
	r.actor, r.batcher = nil, nil
	r.sup.childFailed(r, r.incarnation.Load(), err)
}

// start builds a new instance and runs its Started hook.
func (r *Ref) start() {
	r.incarnation.Add(1)
	err := r.safely(func() error {
		r.actor = r.props.New()
		if r.actor == nil {
			return errors.New("actor: Props.New returned nil")
		}
		if s, ok := r.actor.(Starter); ok {
			return s.Started(&r.cctx)
		}
		return nil
	})
	if err != nil {
		r.crash(err)
		return
	}
	if b, ok := r.actor.(BatchReceiver); ok && r.props.BatchSize > 1 {
		r.batcher = b
	}
}

// stopInstance runs the Stopped hook of a live instance and drops it.
func (r *Ref) stopInstance() {
	if r.actor == nil {
		return
	}
	if s, ok := r.actor.(Stopper); ok {
		_ = r.safely(func() error { s.Stopped(&r.cctx); return nil })
	}
	r.actor, r.batcher = nil, nil
}

func (r *Ref) safely(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = r.panicked(p)
		}
	}()
	return fn()
}

// handleSystem runs one system message; stop reports that the loop ends.
func (r *Ref) handleSystem(m sysMsg) (stop bool, reason error) {
	switch m.kind {
	case sysStop:
		r.stopInstance()
		return true, m.err
	case sysSuspend:
		r.stopInstance()
	case sysResume:
		r.stopInstance()
		r.stats.restarts.Add(r.sys.ctx, 1, r.stats.addOpts...)
		r.start()
	case sysPing:
	case sysTerminated:
		e := getEnvelope(nil, Terminated{Ref: m.ref, Reason: m.err})
		r.front = append(r.front, e)
	}
	if m.reply != nil {
		m.reply(nil)
	}
	return false, nil
}

func (r *Ref) flushHandled() {
	if r.handled > 0 {
		r.stats.handled.Add(r.sys.ctx, r.handled, r.stats.addOpts...)
		r.handled = 0
	}
}

// terminate settles everything the stopped actor still holds and tells its
// watchers and supervisor.
func (r *Ref) terminate(reason error) {
	r.stopped.Store(true)
	r.sysMu.Lock()
	r.sysClosed = true
	q := r.sysQ
	r.sysQ = nil
	r.sysMu.Unlock()
	for _, m := range q {
		r.rejectSystem(m)
	}
	for _, e := range r.pending {
		r.sys.deadLetter(r, e, ReasonStopped, ErrStopped, true)
	}
	for _, e := range r.front {
		r.sys.deadLetter(r, e, ReasonStopped, ErrStopped, true)
	}
	r.pending, r.front = nil, nil
	r.drainLanes()
	r.flushHandled()
	r.sys.unregister(r)
	r.sup.childStopped(r)

	r.watchMu.Lock()
	r.ended, r.reason = true, reason
	watchers, afterStop := r.watchers, r.afterStop
	r.watchers, r.afterStop = nil, nil
	r.watchMu.Unlock()
	for _, w := range watchers {
		w.postSystem(sysMsg{kind: sysTerminated, ref: r, err: reason})
	}
	for _, f := range afterStop {
		f()
	}
	close(r.done)
}
