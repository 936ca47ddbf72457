package actor

import (
	"context"
	"errors"
	"fmt"
)

// Actor handles one message at a time; it never runs concurrently with
// itself, so it needs no locks for its own state.
type Actor interface {
	Receive(c *Context)
}

// Starter is implemented by actors that load state when they start. Started
// runs at the first start and after every restart, before any message; an
// error is treated like a panic (the supervisor restarts with backoff).
type Starter interface {
	Started(c *Context) error
}

// Stopper is implemented by actors that release resources when they stop or
// are restarted by their supervisor. It is not called on an instance that
// panicked: its state may be broken.
type Stopper interface {
	Stopped(c *Context)
}

// BatchReceiver is implemented by actors that prefer to handle queued
// messages in groups (stores, analytics). When Props.BatchSize > 1, up to
// BatchSize messages sent with Tell on the user lane are handed at once.
// Asks, priority messages and Terminated notices are never batched: they go
// to Receive, in their place in the sequence. If ReceiveBatch panics, the
// whole batch is retried, but only when every message of it is Idempotent;
// otherwise, or past Props.MaxRetries, every message of it becomes a poison
// DeadLetter.
type BatchReceiver interface {
	ReceiveBatch(c *Context, msgs []any)
}

// Idempotent is implemented by messages that may be handled more than once
// with the effect of once (a "set" rather than an "append", a write keyed by
// a request id). Only such a message is retried after its handling panicked;
// any other message becomes a poison DeadLetter after its first failure, so
// that side effects already done before the panic (a rate-limit hit, a row
// written) are not repeated. A message type whose Idempotent returns false
// is treated as if it did not implement the interface.
type Idempotent interface {
	Idempotent() bool
}

// retryable reports whether a unit that failed may be handled again: every
// message of it says it is idempotent.
func retryable(unit []*envelope) bool {
	for _, e := range unit {
		m, ok := e.msg.(Idempotent)
		if !ok || !m.Idempotent() {
			return false
		}
	}
	return true
}

// Overflow is what a send does when the mailbox is full.
type Overflow int

const (
	// Block waits for room until the sender's context is done.
	Block Overflow = iota
	// FailFast returns ErrMailboxFull at once (what TryTell and
	// Context.Forward always do).
	FailFast
	// DropNewest drops the message being sent, counts it and publishes a
	// DeadLetter with reason "dropped". Tell returns nil (the sender chose
	// not to care); Ask returns ErrMailboxFull.
	DropNewest
)

func (o Overflow) String() string {
	switch o {
	case Block:
		return "block"
	case FailFast:
		return "fail-fast"
	case DropNewest:
		return "drop-newest"
	}
	return fmt.Sprintf("Overflow(%d)", int(o))
}

var (
	// ErrMailboxFull is returned by a send to a full mailbox whose policy is
	// FailFast (or an Ask under DropNewest), and by TryTell and
	// Context.Forward to a full mailbox whatever its policy.
	ErrMailboxFull = errors.New("actor: mailbox full")
	// ErrStopped is returned by sends to, and Asks pending on, an actor that
	// has stopped, and by Spawn after Shutdown.
	ErrStopped = errors.New("actor: stopped")
	// ErrTimeout is the error of an Ask or blocked Tell whose context
	// deadline passed; it is context.DeadlineExceeded, so either matches.
	ErrTimeout = context.DeadlineExceeded
	// ErrNoReply is returned by Ask when the actor handled the message
	// without calling Respond.
	ErrNoReply = errors.New("actor: handler returned without a reply")
	// ErrTooManyRestarts is the Terminated reason of an actor that the root
	// supervisor gave up on, and what System.Err wraps then.
	ErrTooManyRestarts = errors.New("actor: restart intensity exceeded")
)

// PanicError carries a panic caught in an actor: the DeadLetter error of a
// poison message and the error an Ask receives for it.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("actor: panic: %v", e.Value) }

// Unwrap exposes a panic value that is itself an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// Props describes how to build and run one actor.
type Props struct {
	// Kind labels metrics ("room", "state-shard"); zero value means "actor".
	Kind string
	// Name identifies the actor in logs and dead letters; zero value means
	// Kind followed by a sequence number.
	Name string
	// New builds a fresh instance, at start and at every restart. Required.
	New func() Actor
	// MailboxSize bounds the user lane (and the priority lane); zero value
	// means 1000.
	MailboxSize int
	// Overflow applies when a lane is full; zero value means Block.
	Overflow Overflow
	// PriorityLane enables TellPriority; without it TellPriority is Tell.
	PriorityLane bool
	// BatchSize is the largest batch handed to a BatchReceiver; zero or one
	// means no batching.
	BatchSize int
	// ReleaseWhenIdle makes the actor give its goroutine back while it has
	// nothing to handle; the next message starts another. For kinds of
	// which there are many, mostly idle (one per connection): an idle one
	// then holds no stack. A busy actor pays a goroutine start per wake-up
	// instead of a channel wake-up.
	ReleaseWhenIdle bool
	// MaxRetries is how many times an Idempotent message whose handling
	// panics is retried before it becomes a poison DeadLetter; zero value
	// means 3, negative means never retry. A message that is not Idempotent
	// is never retried, whatever MaxRetries says.
	MaxRetries int
}

func (p Props) withDefaults() Props {
	if p.Kind == "" {
		p.Kind = "actor"
	}
	if p.MailboxSize <= 0 {
		p.MailboxSize = 1000
	}
	if p.BatchSize < 1 {
		p.BatchSize = 1
	}
	switch {
	case p.MaxRetries == 0:
		p.MaxRetries = 3
	case p.MaxRetries < 0:
		p.MaxRetries = 0
	}
	return p
}

// Validate reports props that cannot be spawned.
func (p Props) Validate() error {
	if p.New == nil {
		return errors.New("actor: props: New is required")
	}
	if p.Overflow < Block || p.Overflow > DropNewest {
		return fmt.Errorf("actor: props: unknown overflow %d", int(p.Overflow))
	}
	return nil
}
