// Package droplog makes what a component drops under overload visible
// without flooding its log: every drop is added to a metric, and a line
// saying how many were dropped since the last one is written at most once
// per period, never once per drop.
package droplog

import (
	"context"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
)

// Config configures a Log.
type Config struct {
	// Counter counts every drop; nil counts none.
	Counter metric.Int64Counter
	// Period is the shortest time between two report lines.
	Period time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Report writes the line: how many were dropped since the last one,
	// and how long ago that was (since the epoch for the first).
	Report func(dropped int64, since time.Duration)
}

// Log counts drops; it is safe for concurrent use.
type Log struct {
	cfg  Config
	n    atomic.Int64 // dropped since the last line
	last atomic.Int64 // the last line's time (unix ns)
}

// New returns a Log.
func New(cfg Config) *Log {
	if cfg.Counter == nil {
		cfg.Counter = noop.Int64Counter{}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Log{cfg: cfg}
}

// Drop counts n dropped, and reports them with the others not reported
// yet if the last line is a period old.
func (l *Log) Drop(n int64) {
	l.cfg.Counter.Add(context.Background(), n)
	l.n.Add(n)
	now := l.cfg.Now().UnixNano()
	last := l.last.Load()
	if now-last < int64(l.cfg.Period) || !l.last.CompareAndSwap(last, now) {
		return
	}
	l.cfg.Report(l.n.Swap(0), time.Duration(now-last))
}
