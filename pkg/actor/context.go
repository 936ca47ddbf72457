package actor

import (
	"context"
	"errors"
	"log/slog"
)

var errNothingToForward = errors.New("actor: no message to forward outside Receive")

// Context is what an actor sees of the message it is handling. It is owned
// by the actor's goroutine and valid only during the call it is passed to:
// do not keep it or hand it to other goroutines.
type Context struct {
	ref     *Ref
	env     *envelope
	attempt int
	stop    bool
}

// Message returns the message being handled; nil in Started, Stopped and
// ReceiveBatch.
func (c *Context) Message() any {
	if c.env == nil {
		return nil
	}
	return c.env.msg
}

// Respond answers the Ask being handled; it does nothing for a Tell or when
// the asker already gave up. If v is an error, Ask returns it as its error.
// Only the first Respond of a message counts.
func (c *Context) Respond(v any) {
	if c.env == nil {
		return
	}
	if err, ok := v.(error); ok {
		c.env.answer(nil, err)
		return
	}
	c.env.answer(v, nil)
}

// Forward hands the message being handled to another actor as if its
// sender had sent it there: an Ask is then answered by the target's
// Respond, and this actor must not answer it. A router actor uses it to
// stay out of the reply path. Forward never waits: when the target's lane
// is full it returns ErrMailboxFull at once, whatever the target's Overflow
// policy, so that one slow target cannot stall the router and every other
// target behind it. On error the message is still this actor's to answer
// (typically Respond(err), which the asker sees as its Ask's error).
func (c *Context) Forward(to *Ref) error {
	if c.env == nil {
		return errNothingToForward
	}
	e := getEnvelope(c.env.ctx, c.env.msg)
	e.fut, e.gen = c.env.fut, c.env.gen
	if err := to.enqueue(c.env.ctx, to.user, e, e.fut != nil, FailFast); err != nil {
		return err
	}
	c.env.fut = nil // the target answers now
	return nil
}

// Context returns the context the message was sent with.
//
// For an Ask it is the asker's context itself: its values, its deadline and
// its cancellation, so a handler sees (ctx.Done, ctx.Err) a caller that has
// given up and can stop early, and calls it makes to other services carry
// the caller's deadline. Work that must outlive the reply (a write-behind
// after Respond) should use context.WithoutCancel(c.Context()).
//
// For a Tell it is the sender's context without its cancellation: a Tell is
// fire-and-forget, the sender does not wait, so a message told with a
// request's context is still handled after that request has returned.
//
// In ReceiveBatch it is that of the first message of the batch (a Tell); in
// Started and Stopped it is context.Background().
func (c *Context) Context() context.Context {
	if c.env == nil || c.env.ctx == nil {
		return context.Background()
	}
	if c.env.fut != nil {
		return c.env.ctx
	}
	return context.WithoutCancel(c.env.ctx)
}

// Attempt is 0 the first time a message is handled and n on its n-th retry
// after a panic.
func (c *Context) Attempt() int { return c.attempt }

// Self returns the actor's own reference.
func (c *Context) Self() *Ref { return c.ref }

// System returns the system the actor runs in.
func (c *Context) System() *System { return c.ref.sys }

// Logger returns a logger tagged with the actor's name and kind.
func (c *Context) Logger() *slog.Logger { return c.ref.log() }

// Stop stops the actor once the current call returns; remaining messages
// become dead letters. Use it instead of Self().Stop, which would wait for
// the actor to finish the very call that waits.
func (c *Context) Stop() { c.stop = true }
