package store

import (
	"context"
	"log/slog"
	"net/url"
	"strings"
)

// minLevel filters the embedded FerretDB's logs before they reach h: it
// logs every connection at INFO, and dumps every failed command (a duplicate
// key, a missing command such as endSessions) at WARN as two multi-line
// "Response header/message" records. Those errors reach the client anyway,
// so they are dropped; what is left is FerretDB's own trouble.
type minLevel struct {
	h   slog.Handler
	min slog.Level
}

func (l minLevel) Enabled(ctx context.Context, lv slog.Level) bool {
	return lv >= l.min && l.h.Enabled(ctx, lv)
}

func (l minLevel) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelError && strings.HasPrefix(r.Message, "Response ") {
		return nil
	}
	return l.h.Handle(ctx, r)
}

func (l minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{h: l.h.WithAttrs(as), min: l.min}
}

func (l minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h: l.h.WithGroup(name), min: l.min}
}

// redactURI hides a password in a connection string before it goes into an
// error message.
func redactURI(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable uri)"
	}
	return u.Redacted()
}
