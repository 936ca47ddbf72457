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
// stay out of the reply path. It waits for room in the target's mailbox as
// the target's overflow policy says, until the sender's context ends. On
// error the message is still this actor's to answer.
func (c *Context) Forward(to *Ref) error {
	if c.env == nil {
		return errNothingToForward
	}
	e := getEnvelope(c.env.ctx, c.env.msg)
	e.fut, e.gen = c.env.fut, c.env.gen
	if err := to.enqueue(c.env.ctx, to.user, e, e.fut != nil); err != nil {
		return err
	}
	c.env.fut = nil // the target answers now
	return nil
}

// Context returns the sender's context values (trace span, request ids)
// without its cancellation: the message was accepted and is handled even if
// the sender has since gone away. In ReceiveBatch it is the context of the
// first message of the batch.
func (c *Context) Context() context.Context {
	if c.env == nil || c.env.ctx == nil {
		return context.Background()
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
func (c *Context) Logger() *slog.Logger { return c.ref.logger }

// Stop stops the actor once the current call returns; remaining messages
// become dead letters. Use it instead of Self().Stop, which would wait for
// the actor to finish the very call that waits.
func (c *Context) Stop() { c.stop = true }
