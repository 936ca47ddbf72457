package edge

import (
	"context"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/rpc"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/status"
)

// work is the blocking part of a call, run by the connection's worker. It
// must not touch the session: it gets what it needs from the handler that
// made it and returns apply, which the session's owner runs with the
// outcome (apply may be nil; err is answered to the client).
type work func(ctx context.Context) (apply func(), err error)

// call is one blocking operation of a connection (gRPC calls, a Redis
// subscription): a client message whose route is not inline, or the
// connection's own (going online, after a kick). The calls of a connection
// run one at a time, in order: each is prepared on the actor (checks,
// and what it needs from the session) only when the one before has been
// applied, so it sees the state its predecessors left.
type call struct {
	id   string          // the client message's id, echoed by the reply
	ctx  context.Context // carries the message's span
	span trace.Span      // the message's span, ended when applied; nil for the connection's own calls
	// tell: a refusal of this own call is sent to the client (echoing id)
	// rather than only logged.
	tell bool
	// prepare runs on the actor when the call's turn comes: it answers at
	// once (nil work) or returns the work for the worker.
	prepare func() (work, error)

	// Written by the worker before it reports the call done.
	ran   bool
	apply func()
	err   error
}

// callDone tells the actor that the worker has run c.
type callDone struct{ c *call }

// callQueue is the session's record of its calls: the one the worker has
// and those waiting for their turn.
type callQueue struct {
	inFlight *call
	waiting  []*call
}

// maxWaitingCalls bounds the client calls waiting behind the one in
// flight; more are refused (RATE_LIMITED) so that a client cannot queue
// work without limit, while its notes and pings still go through.
const maxWaitingCalls = 32

var errTooManyCalls = rpc.Refuse(pb.ErrorReason_RATE_LIMITED, "too many requests waiting for an answer")

// enqueue starts cl, or queues it behind the calls before it. The
// connection's own calls are always queued.
func (a *connActor) enqueue(cl *call) error {
	q := &a.s.calls
	if q.inFlight == nil && len(q.waiting) == 0 {
		a.start(cl)
		return nil
	}
	if cl.span != nil && len(q.waiting) >= maxWaitingCalls {
		return errTooManyCalls
	}
	q.waiting = append(q.waiting, cl)
	return nil
}

// start prepares cl and hands its work to the worker; a call answered at
// once is finished, and the next one started.
func (a *connActor) start(cl *call) {
	q := &a.s.calls
	for cl != nil {
		w, err := cl.prepare()
		if err == nil && w != nil {
			q.inFlight = cl
			cl.apply = nil
			a.c.runCall(cl, w)
			return
		}
		cl.err = err
		a.finish(cl)
		cl = nil
		if len(q.waiting) > 0 {
			cl = q.waiting[0]
			q.waiting[0] = nil
			q.waiting = q.waiting[1:]
		}
	}
}

// done applies the call the worker has finished and starts the next one.
func (a *connActor) done(cl *call) {
	q := &a.s.calls
	if q.inFlight != cl {
		return
	}
	q.inFlight = nil
	a.finish(cl)
	if len(q.waiting) > 0 {
		next := q.waiting[0]
		q.waiting[0] = nil
		q.waiting = q.waiting[1:]
		a.start(next)
	}
}

// finish applies a call's outcome, answers its error and ends its span.
func (a *connActor) finish(cl *call) {
	if cl.apply != nil {
		cl.apply()
	}
	if cl.err != nil {
		switch {
		case cl.span != nil:
			a.refuse(cl.span, cl.id, cl.err)
		case cl.tell:
			a.refuse(noSpan, cl.id, cl.err)
		default:
			a.c.srv.log.Debug("connection call", "conn", a.c.id, "err", cl.err)
		}
	}
	if cl.span != nil {
		cl.span.End()
	}
}

// noSpan is the span of what has none (a non-recording span).
var noSpan = trace.SpanFromContext(context.Background())

// refuse answers err to the message id with an error frame (the connection
// stays open) and marks span.
func (a *connActor) refuse(span trace.Span, id string, err error) {
	reason := rpc.Reason(err)
	if span.IsRecording() {
		span.SetAttributes(attribute.String("pr.error", reason))
		if reason == "INTERNAL" || reason == "UNAVAILABLE" {
			span.SetStatus(codes.Error, status.Convert(err).Message())
		}
	}
	a.c.sendError(id, reason, status.Convert(err).Message())
}

// abandonCalls is the teardown's part of the queue, once the actor and the
// worker have stopped: a call the worker ran is applied (a join that
// succeeded must be left), the others are dropped, and a pending fan-out
// membership is given back.
func (a *connActor) abandonCalls() {
	q := &a.s.calls
	if cl := q.inFlight; cl != nil {
		q.inFlight = nil
		if cl.ran {
			a.finish(cl)
		} else if cl.span != nil {
			cl.span.End()
		}
	}
	for _, cl := range q.waiting {
		if cl.span != nil {
			cl.span.End()
		}
	}
	q.waiting = nil
	if a.s.pending != "" {
		a.c.srv.hub.Leave(a.s.pending, a.c.id)
		a.s.pending = ""
	}
}

// runCall runs a call's work on a goroutine of its own and reports it
// done: calls are one at a time and few in a connection's life, so an idle
// connection holds no worker for them. Only the actor starts calls, and
// the teardown waits for the one in flight after the actor has stopped. A
// call is not cancelled when the connection closes (its deadline bounds
// it): the teardown must know whether a join took a seat.
func (c *conn) runCall(cl *call, w work) {
	c.loops.Go(func() {
		// The actor's first calls start before run has registered the
		// connection (and set c.ref); they run once it has.
		select {
		case <-c.admitted:
		case <-c.ctx.Done():
			return
		}
		cl.apply, cl.err = w(cl.ctx)
		cl.ran = true
		if c.ctx.Err() != nil {
			return // the teardown applies it
		}
		c.tell(callDone{c: cl})
	})
}
