package actor

import (
	"context"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
)

// metrics holds a System's instruments; attribute options are built once
// per kind so recording allocates nothing.
type metrics struct {
	duration metric.Float64Histogram
	handled  metric.Int64Counter
	restarts metric.Int64Counter
	dead     metric.Int64Counter
	reg      metric.Registration

	mu    sync.Mutex
	kinds map[string]*kindStats
}

// kindStats are the instruments of one actor kind with its attributes.
type kindStats struct {
	duration   metric.Float64Histogram
	handled    metric.Int64Counter
	restarts   metric.Int64Counter
	dead       metric.Int64Counter
	addOpts    []metric.AddOption
	recordOpts []metric.RecordOption
	deadOpts   map[string][]metric.AddOption
}

func newMetrics(m metric.Meter, depth func(report func(kind string, depth int64))) *metrics {
	if m == nil {
		m = noop.NewMeterProvider().Meter("actor")
	}
	ms := &metrics{kinds: map[string]*kindStats{}}
	// Instrument errors only come from invalid names, which are constants
	// here; the SDK returns a usable no-op instrument alongside them.
	ms.duration, _ = m.Float64Histogram("actor.processing.duration",
		metric.WithUnit("s"), metric.WithDescription("Time to handle one message or batch; sampled 1 in 64."))
	ms.handled, _ = m.Int64Counter("actor.messages.handled",
		metric.WithDescription("Messages handled successfully."))
	ms.restarts, _ = m.Int64Counter("actor.restarts",
		metric.WithDescription("Actor restarts by a supervisor."))
	ms.dead, _ = m.Int64Counter("actor.dead_letters",
		metric.WithDescription("Messages not handled: stopped, dropped, poison or expired."))
	gauge, _ := m.Int64ObservableGauge("actor.mailbox.depth",
		metric.WithDescription("Messages queued in actor mailboxes."))
	ms.reg, _ = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		depth(func(kind string, d int64) {
			o.ObserveInt64(gauge, d, metric.WithAttributes(attribute.String("kind", kind)))
		})
		return nil
	}, gauge)
	return ms
}

func (ms *metrics) kind(k string) *kindStats {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if ks, ok := ms.kinds[k]; ok {
		return ks
	}
	set := metric.WithAttributeSet(attribute.NewSet(attribute.String("kind", k)))
	ks := &kindStats{
		duration:   ms.duration,
		handled:    ms.handled,
		restarts:   ms.restarts,
		dead:       ms.dead,
		addOpts:    []metric.AddOption{set},
		recordOpts: []metric.RecordOption{set},
		deadOpts:   map[string][]metric.AddOption{},
	}
	for _, reason := range reasons {
		ks.deadOpts[reason] = []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(
			attribute.String("kind", k), attribute.String("reason", reason)))}
	}
	ms.kinds[k] = ks
	return ks
}

func (ks *kindStats) deadLetter(ctx context.Context, reason string) {
	ks.dead.Add(ctx, 1, ks.deadOpts[reason]...)
}

func (ms *metrics) close() error {
	if ms.reg == nil {
		return nil
	}
	return ms.reg.Unregister()
}
