package telemetry

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// ParseLevel reads "debug", "info", "warn" or "error" (any case).
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("log level %q: want debug, info, warn or error", s)
}

// LevelName is the lower-case name ParseLevel reads.
func LevelName(l slog.Level) string { return strings.ToLower(l.String()) }

// NewLevelHandler wraps inner so records below level are dropped. With a
// *slog.LevelVar, setting it takes effect at once: one LevelVar per
// service gives each service of a shared process (the all-in-one program)
// its own level over one inner handler, which must itself let the lowest
// level through.
func NewLevelHandler(inner slog.Handler, level slog.Leveler) slog.Handler {
	return &levelHandler{inner: inner, level: level}
}

type levelHandler struct {
	inner slog.Handler
	level slog.Leveler
}

func (h *levelHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.level.Level() && h.inner.Enabled(ctx, l)
}

func (h *levelHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < h.level.Level() {
		return nil
	}
	return h.inner.Handle(ctx, r)
}

func (h *levelHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &levelHandler{inner: h.inner.WithAttrs(as), level: h.level}
}

func (h *levelHandler) WithGroup(name string) slog.Handler {
	return &levelHandler{inner: h.inner.WithGroup(name), level: h.level}
}
