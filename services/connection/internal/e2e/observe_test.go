package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/pianorhythm/server/services/connection/connsvc"
	"github.com/pianorhythm/server/services/connection/internal/codec"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// TestNoteTraceCrossesInstances: a note batch sent on instance a and heard
// on instance b is one trace: b's "fanout" span is a child of a's
// "ws.notes" span, its context carried in RoomEvent.trace through Redis.
func TestNoteTraceCrossesInstances(t *testing.T) {
	w := newWorld(t)
	recA, recB := tracetest.NewSpanRecorder(), tracetest.NewSpanRecorder()
	tpA := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recA))
	tpB := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recB))
	t.Cleanup(func() { tpA.Shutdown(context.Background()); tpB.Shutdown(context.Background()) })
	ea := w.edgeWith(connsvc.Config{InstanceID: "edge-a"}, edgeOpts{tracer: tpA})
	eb := w.edgeWith(connsvc.Config{InstanceID: "edge-b"}, edgeOpts{tracer: tpB})

	a := ea.dial(t, codec.Proto, "")
	b := eb.dial(t, codec.JSON, "")
	a.join("traced", true)
	b.join("traced", false)
	a.send(notes(2))
	b.await("notes from a", 5*time.Second, isNotes)

	// Both spans end just after the deliveries the clients have seen.
	deadline := time.Now().Add(5 * time.Second)
	for {
		var sent sdktrace.ReadOnlySpan
		for _, s := range recA.Ended() {
			if s.Name() == "ws.notes" {
				sent = s
			}
		}
		for _, s := range recB.Ended() {
			if sent == nil || s.Name() != "fanout" || s.SpanContext().TraceID() != sent.SpanContext().TraceID() {
				continue
			}
			if s.Parent().SpanID() != sent.SpanContext().SpanID() || !s.Parent().IsRemote() {
				t.Fatalf("fanout parent %v, want the remote ws.notes span %v", s.Parent().SpanID(), sent.SpanContext().SpanID())
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no fanout span on b in the trace of a's ws.notes span (%v)", sent)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestEdgeMetrics(t *testing.T) {
	w := newWorld(t)
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { mp.Shutdown(context.Background()) })
	e := w.edgeWith(connsvc.Config{}, edgeOpts{meter: mp.Meter("test")})

	a := e.dial(t, codec.Proto, "")
	b := e.dial(t, codec.JSON, "")
	a.join("metered", true)
	b.join("metered", false)
	a.send(notes(3))
	b.await("notes", 5*time.Second, isNotes)
	b.ws.Close(1000, "bye")

	sums := map[string]metricdata.Sum[int64]{}
	collect := func() {
		var rm metricdata.ResourceMetrics
		if err := reader.Collect(context.Background(), &rm); err != nil {
			t.Fatal(err)
		}
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				if s, ok := m.Data.(metricdata.Sum[int64]); ok {
					sums[m.Name] = s
				}
			}
		}
	}
	total := func(name string, attrs ...attribute.KeyValue) int64 {
		var n int64
		for _, dp := range sums[name].DataPoints {
			match := true
			for _, kv := range attrs {
				if v, ok := dp.Attributes.Value(kv.Key); !ok || v != kv.Value {
					match = false
				}
			}
			if match {
				n += dp.Value
			}
		}
		return n
	}
	// The close is counted at the end of the server's cleanup.
	for i := 0; ; i++ {
		collect()
		if total("edge.connections.closed") > 0 {
			break
		}
		if i > 500 {
			t.Fatal("close of b not counted")
		}
		time.Sleep(10 * time.Millisecond)
	}
	tests := []struct {
		name  string
		attrs []attribute.KeyValue
		want  func(int64) bool
	}{
		{"edge.connections.open", nil, func(n int64) bool { return n == 1 }},
		{"edge.notes.fanned_out", nil, func(n int64) bool { return n == 3 }},
		{"edge.connections.closed", []attribute.KeyValue{attribute.Int("code", 1000)}, func(n int64) bool { return n == 1 }},
		{"edge.frames.received", nil, func(n int64) bool { return n >= 3 }}, // two joins and the notes
		{"edge.frames.sent", nil, func(n int64) bool { return n >= 5 }},     // welcomes, roomJoined, notes
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := total(tt.name, tt.attrs...); !tt.want(got) {
				t.Fatalf("%s = %d", tt.name, got)
			}
		})
	}
}
