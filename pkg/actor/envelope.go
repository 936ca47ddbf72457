package actor

import (
	"context"
	"sync"
	"sync/atomic"
)

// envelope carries one message through a mailbox. Envelopes are pooled and
// sent by pointer so that Tell allocates nothing and a mailbox of 1000 slots
// costs 8 KB, not 1000 copies of the envelope.
type envelope struct {
	msg any
	ctx context.Context
	fut *future // nil for Tell
	gen uint64  // the generation of fut this message may answer
}

var envPool = sync.Pool{New: func() any { return new(envelope) }}

func getEnvelope(ctx context.Context, msg any) *envelope {
	e := envPool.Get().(*envelope)
	e.ctx, e.msg = ctx, msg
	return e
}

func putEnvelope(e *envelope) {
	*e = envelope{}
	envPool.Put(e)
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
