package logsink

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

// Handler wraps an inner slog.Handler: every record passes to inner as
// before, and WARN and ERROR records are also copied to a Sink. The service
// of an entry is the "service" attribute, else "component" (the all-in-one
// program tags each service's logger with it), else the handler's default.
type Handler struct {
	inner   slog.Handler
	sink    func() *Sink
	service string
	attrs   []slog.Attr // accumulated WithAttrs, keys already group-qualified
	group   string      // current group prefix, "a.b."
}

// NewHandler returns a Handler copying to the Sink sink returns at each
// record (nil: the record is not copied, for a sink that does not exist
// yet); service names entries whose records carry no service attribute.
func NewHandler(inner slog.Handler, sink func() *Sink, service string) *Handler {
	return &Handler{inner: inner, sink: sink, service: service}
}

var _ slog.Handler = (*Handler)(nil)

// Enabled is true for WARN and above even when inner would drop them, so
// the sink sees every warning.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn || h.inner.Enabled(ctx, l)
}

// Handle copies WARN and ERROR records to the sink, then passes the record
// to inner if inner wants it.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		if sink := h.sink(); sink != nil {
			sink.Add(h.entry(ctx, r))
		}
	}
	if !h.inner.Enabled(ctx, r.Level) {
		return nil
	}
	return h.inner.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.inner = h.inner.WithAttrs(as)
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), qualify(h.group, as)...)
	return &c
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.inner = h.inner.WithGroup(name)
	c.group = h.group + name + "."
	return &c
}

func qualify(group string, as []slog.Attr) []slog.Attr {
	if group == "" {
		return as
	}
	out := make([]slog.Attr, len(as))
	for i, a := range as {
		out[i] = slog.Attr{Key: group + a.Key, Value: a.Value}
	}
	return out
}

func (h *Handler) entry(ctx context.Context, r slog.Record) *pb.LogEntry {
	e := &pb.LogEntry{
		At: timestamppb.New(r.Time), Level: levelName(r.Level), Message: r.Message,
		Service: h.service, Attributes: map[string]string{},
	}
	add := func(a slog.Attr) {
		flatten(e.Attributes, "", a)
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(func(a slog.Attr) bool {
		add(slog.Attr{Key: h.group + a.Key, Value: a.Value})
		return true
	})
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		e.TraceId = sc.TraceID().String()
	} else if id := e.Attributes["trace_id"]; id != "" {
		e.TraceId = id
	}
	delete(e.Attributes, "trace_id")
	delete(e.Attributes, "span_id")
	if s := e.Attributes["service"]; s != "" {
		e.Service = s
	} else if s := e.Attributes["component"]; s != "" {
		e.Service = s
	}
	return e
}

// flatten writes a as key=value strings, groups as dotted keys.
func flatten(m map[string]string, prefix string, a slog.Attr) {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, ga := range v.Group() {
			flatten(m, p, ga)
		}
		return
	}
	if a.Key == "" {
		return
	}
	m[prefix+a.Key] = v.String()
}

// levelName maps a level to the contract's names: "WARN" or "ERROR"
// (levels between and above fold into the nearer one below).
func levelName(l slog.Level) string {
	if l >= slog.LevelError {
		return "ERROR"
	}
	return "WARN"
}
