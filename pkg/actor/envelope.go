package actor

import (
	"context"
	"sync"
	"sync/atomic"
)

// envelope carries a message with its sender's context and reply slot.
// A lane holds either a bare message (a Tell with no context to carry: the
// cheapest case, as cheap as a channel send) or a pooled *envelope sent by
// pointer; either way Tell allocates nothing. The actor unpacks bare
// messages into envelopes it owns (pooled is false).
type envelope struct {
	msg    any
	ctx    context.Context
	fut    *future // nil for Tell
	gen    uint64  // the generation of fut this message may answer
	pooled bool
}

var envPool = sync.Pool{New: func() any { return new(envelope) }}

func getEnvelope(ctx context.Context, msg any) *envelope {
	e := envPool.Get().(*envelope)
	e.ctx, e.msg, e.pooled = ctx, msg, true
	return e
}

func putEnvelope(e *envelope) {
	pooled := e.pooled
	*e = envelope{}
	if pooled {
		envPool.Put(e)
	}
}

// unpack turns a lane item into an envelope, using slot for a bare message.
func unpack(v any, slot *envelope) *envelope {
	if e, ok := v.(*envelope); ok {
		return e
	}
	*slot = envelope{msg: v}
	return slot
}

// bare reports whether a Tell in ctx can travel as a bare message: the
// context carries no values for the actor to see.
func bare(ctx context.Context) bool {
	return ctx == nil || ctx == context.Background() || ctx == context.TODO()
}

// reply is an answer to an Ask.
type reply struct {
	v   any
	err error
}

// future is the reusable reply slot of one Ask. Each Ask owns one
// generation; whoever advances the generation first (the responder or the
// asker giving up) decides the outcome, so a late reply can never land in a
// later Ask that reuses the slot, and no goroutine waits on the asker's
// behalf.
type future struct {
	ch  chan reply // capacity 1: the single reply of the current generation
	gen atomic.Uint64
}

var futurePool = sync.Pool{New: func() any { return &future{ch: make(chan reply, 1)} }}

// respond delivers the reply for generation g; it reports false when that
// generation was already answered or abandoned.
func (f *future) respond(g uint64, v any, err error) bool {
	if !f.gen.CompareAndSwap(g, g+1) {
		return false
	}
	f.ch <- reply{v: v, err: err} // never blocks: one send per generation
	return true
}

// answer responds to the Ask an envelope carries, if any.
func (e *envelope) answer(v any, err error) {
	if e.fut != nil {
		e.fut.respond(e.gen, v, err)
	}
}

// pending reports whether the envelope is an Ask not yet answered.
func (e *envelope) pending() bool {
	return e.fut != nil && e.fut.gen.Load() == e.gen
}
