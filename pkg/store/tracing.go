package store

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"

	"github.com/redis/go-redis/extra/redisotel/v9"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
)

// instrumentationName names the tracer of the MongoDB spans.
const instrumentationName = "github.com/pianorhythm/server/pkg/store"

// childSpansOnly wraps a tracer provider so that its tracers start spans
// only inside a trace that already exists: a Redis command or MongoDB
// command issued for a request shows in that request's trace, while the
// background loops (a blocking stream read every second, heartbeats,
// sweeps) do not each start a trace of their own.
type childSpansOnly struct {
	embedded.TracerProvider
	tp trace.TracerProvider
}

func (c childSpansOnly) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	return childTracer{t: c.tp.Tracer(name, opts...)}
}

type childTracer struct {
	embedded.Tracer
	t trace.Tracer
}

func (c childTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx, trace.SpanFromContext(ctx) // the no-op span of a context without one
	}
	return c.t.Start(ctx, name, opts...)
}

func tracerProvider(tp trace.TracerProvider) trace.TracerProvider {
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	return childSpansOnly{tp: tp}
}

// instrumentRedis adds go-redis's own OpenTelemetry tracing (redisotel)
// to c: one span per command or pipeline, as a child of the caller's span.
// Command arguments are not recorded: they hold chat text and tokens. Nor
// is the caller's code location: the parent span names the caller, and
// finding it walked the stack on every command, traced or not.
func instrumentRedis(c *redis.Client, tp trace.TracerProvider) error {
	err := redisotel.InstrumentTracing(c,
		redisotel.WithTracerProvider(tracerProvider(tp)),
		redisotel.WithDBStatement(false),
		redisotel.WithCallerEnabled(false),
		redisotel.WithDialFilter(true),
	)
	if err != nil {
		return fmt.Errorf("instrument redis: %w", err)
	}
	return nil
}

// mongoMonitor returns a command monitor that records one client span per
// MongoDB command ("insert analytics_users"), as a child of the caller's
// span, with the database, collection, operation and server address; a
// failed command marks its span as an error. Documents and filters are not
// recorded.
//
// The OpenTelemetry contrib instrumentation for mongo-driver v2 (otelmongo)
// is not served by the Go module proxy this project uses (only the v1
// driver's is), so this monitor does the same job on the driver's event API.
func mongoMonitor(tp trace.TracerProvider) *event.CommandMonitor {
	tracer := tracerProvider(tp).Tracer(instrumentationName)
	type key struct {
		conn string
		req  int64
	}
	var spans sync.Map // key -> trace.Span
	end := func(conn string, req int64, err string) {
		v, ok := spans.LoadAndDelete(key{conn, req})
		if !ok {
			return
		}
		span := v.(trace.Span)
		if err != "" {
			span.SetStatus(codes.Error, err)
		}
		span.End()
	}
	return &event.CommandMonitor{
		Started: func(ctx context.Context, e *event.CommandStartedEvent) {
			if !trace.SpanContextFromContext(ctx).IsValid() {
				return
			}
			coll := collectionOf(e.Command)
			name := e.CommandName
			if coll != "" {
				name += " " + coll
			}
			attrs := []attribute.KeyValue{
				attribute.String("db.system.name", "mongodb"),
				attribute.String("db.namespace", e.DatabaseName),
				attribute.String("db.operation.name", e.CommandName),
			}
			if coll != "" {
				attrs = append(attrs, attribute.String("db.collection.name", coll))
			}
			if host, port, err := net.SplitHostPort(e.ConnectionID); err == nil {
				attrs = append(attrs, attribute.String("server.address", host))
				if p, err := strconv.Atoi(portOnly(port)); err == nil {
					attrs = append(attrs, attribute.Int("server.port", p))
				}
			}
			_, span := tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
			spans.Store(key{e.ConnectionID, e.RequestID}, span)
		},
		Succeeded: func(_ context.Context, e *event.CommandSucceededEvent) { end(e.ConnectionID, e.RequestID, "") },
		Failed: func(_ context.Context, e *event.CommandFailedEvent) {
			msg := "command failed"
			if e.Failure != nil {
				msg = e.Failure.Error()
			}
			end(e.ConnectionID, e.RequestID, msg)
		},
	}
}

// collectionOf is the collection a CRUD command names as the value of its
// first element ({insert: "users", ...}); "" for other commands.
func collectionOf(cmd bson.Raw) string {
	elems, err := cmd.Elements()
	if err != nil || len(elems) == 0 {
		return ""
	}
	if s, ok := elems[0].Value().StringValueOK(); ok {
		return s
	}
	if c, ok := cmd.Lookup("collection").StringValueOK(); ok { // getMore
		return c
	}
	return ""
}

// portOnly drops the driver's "[-n]" connection counter from a port
// ("27017[-3]").
func portOnly(p string) string {
	for i, r := range p {
		if r < '0' || r > '9' {
			return p[:i]
		}
	}
	return p
}
