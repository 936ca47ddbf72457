package edge

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
)

// metrics are the edge's instruments. Hot-path counters are added without
// attributes, so recording allocates nothing.
type metrics struct {
	open      metric.Int64UpDownCounter
	framesIn  metric.Int64Counter
	framesOut metric.Int64Counter
	// refusedFrames counts client frames refused at decoding (answered
	// with an error or, on /mpp, a notification).
	refusedFrames metric.Int64Counter
	cursorsOut    metric.Int64Counter
	notesOut      metric.Int64Counter
	notesDropped  metric.Int64Counter
	slowCloses    metric.Int64Counter
	closes        metric.Int64Counter
	// fanoutDropped counts what a full room fan-out dropped: note events
	// (kind "notes") and state events (kind "event").
	fanoutDropped metric.Int64Counter
	// publishFailed counts room events not published to Redis (down or
	// failing); publishDropped those dropped because the publish queue was
	// full (Redis behind).
	publishFailed  metric.Int64Counter
	publishDropped metric.Int64Counter
	// arrivalsRefused counts connections refused because they waited
	// ArrivalWait for a turn to sign in.
	arrivalsRefused metric.Int64Counter
}

// newMetrics builds the instruments on m; nil means a no-op meter.
// Instrument errors leave no-op instruments (the edge works without
// metrics).
func newMetrics(m metric.Meter) *metrics {
	if m == nil {
		m = noop.NewMeterProvider().Meter("")
	}
	var ms metrics
	ms.open, _ = m.Int64UpDownCounter("edge.connections.open",
		metric.WithDescription("WebSocket connections open on this instance"))
	ms.framesIn, _ = m.Int64Counter("edge.frames.received", metric.WithDescription("client frames received"))
	ms.framesOut, _ = m.Int64Counter("edge.frames.sent", metric.WithDescription("server frames written to sockets"))
	ms.refusedFrames, _ = m.Int64Counter("edge.frames.refused",
		metric.WithDescription("client frames (or MPP messages in them) refused at decoding"))
	ms.cursorsOut, _ = m.Int64Counter("edge.cursors.relayed", metric.WithDescription("cursor positions relayed to a local room (once per position)"))
	ms.notesOut, _ = m.Int64Counter("edge.notes.fanned_out",
		metric.WithDescription("note events handed to a local room's members (once per batch, not per member)"))
	ms.notesDropped, _ = m.Int64Counter("edge.notes.dropped", metric.WithDescription("note events dropped by the note quota"))
	ms.slowCloses, _ = m.Int64Counter("edge.slow_client.closes", metric.WithDescription("connections closed as slow (4003)"))
	ms.closes, _ = m.Int64Counter("edge.connections.closed", metric.WithDescription("connections closed, by close code"))
	ms.fanoutDropped, _ = m.Int64Counter("edge.fanout.dropped",
		metric.WithDescription("deliveries a full room fan-out dropped: note events (kind=notes), state events (kind=event)"))
	ms.publishFailed, _ = m.Int64Counter("edge.redis.publish_failed",
		metric.WithDescription("room events not published to Redis (down or failing)"))
	ms.arrivalsRefused, _ = m.Int64Counter("edge.arrivals.refused",
		metric.WithDescription("new connections refused after waiting their turn to sign in (the edge was busy letting others in)"))
	ms.publishDropped, _ = m.Int64Counter("edge.redis.publish_dropped",
		metric.WithDescription("room events dropped before Redis: the publish queue was full (Redis behind)"))
	for _, p := range []any{ms.open, ms.framesIn, ms.framesOut, ms.refusedFrames, ms.cursorsOut, ms.notesOut, ms.notesDropped, ms.slowCloses, ms.closes,
		ms.fanoutDropped, ms.publishFailed, ms.publishDropped} {
		if p == nil {
			return newMetrics(nil)
		}
	}
	return &ms
}

// closed records one connection's end.
func (m *metrics) closed(code int) {
	ctx := context.Background()
	m.open.Add(ctx, -1)
	m.closes.Add(ctx, 1, metric.WithAttributes(attribute.Int("code", code)))
	if code == 4003 {
		m.slowCloses.Add(ctx, 1)
	}
}
