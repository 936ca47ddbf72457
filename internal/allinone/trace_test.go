package allinone_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/encoding/protojson"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/internal/allinone"
	"github.com/pianorhythm/server/pkg/store/storetest"
)

// wsClient is a JSON-protocol client of /ws that reads every frame.
type wsClient struct {
	t      *testing.T
	c      *websocket.Conn
	frames chan *pb.ServerMessage
}

func dialWS(t *testing.T, base string) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u := "ws" + strings.TrimPrefix(strings.TrimSuffix(base, "/"), "http") + "/ws"
	c, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{Subprotocols: []string{"pianorhythm.v1.json"}})
	if err != nil {
		t.Fatalf("dial %s: %v", u, err)
	}
	w := &wsClient{t: t, c: c, frames: make(chan *pb.ServerMessage, 256)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			_, data, err := c.Read(context.Background())
			if err != nil {
				return
			}
			m := new(pb.ServerMessage)
			if protojson.Unmarshal(data, m) == nil {
				w.frames <- m
			}
		}
	}()
	t.Cleanup(func() { c.Close(websocket.StatusNormalClosure, ""); <-done })
	return w
}

func (w *wsClient) send(frame string) {
	w.t.Helper()
	if err := w.c.Write(context.Background(), websocket.MessageText, []byte(frame)); err != nil {
		w.t.Fatal(err)
	}
}

// await reads frames until one satisfies ok (or fails after 10 s).
func (w *wsClient) await(what string, ok func(*pb.ServerMessage) bool) *pb.ServerMessage {
	w.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m := <-w.frames:
			if m.GetError() != nil && m.GetId() != "" {
				w.t.Fatalf("waiting for %s: error %v", what, m.GetError())
			}
			if ok(m) {
				return m
			}
		case <-timeout:
			w.t.Fatalf("no %s within 10s", what)
			return nil
		}
	}
}

func reply(id string) func(*pb.ServerMessage) bool {
	return func(m *pb.ServerMessage) bool { return m.GetId() == id }
}

// traceOf returns the ended spans of the trace whose root is the edge's
// span named root, in the order they ended.
func traceOf(t *testing.T, rec *tracetest.SpanRecorder, root string) []sdktrace.ReadOnlySpan {
	t.Helper()
	var id trace.TraceID
	for _, s := range rec.Ended() {
		if s.Name() == root {
			id = s.SpanContext().TraceID()
		}
	}
	if !id.IsValid() {
		t.Fatalf("no %s span", root)
	}
	var out []sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.SpanContext().TraceID() == id {
			out = append(out, s)
		}
	}
	return out
}

// grpcClientSpans returns the names of the gRPC client spans of the trace
// whose root is the edge's span named root.
func grpcClientSpans(t *testing.T, rec *tracetest.SpanRecorder, root string) []string {
	t.Helper()
	var out []string
	for _, s := range traceOf(t, rec, root) {
		if s.SpanKind() != trace.SpanKindClient {
			continue
		}
		for _, a := range s.Attributes() {
			if (a.Key == "rpc.system.name" || a.Key == "rpc.system") && a.Value.AsString() == "grpc" {
				out = append(out, s.Name())
			}
		}
	}
	return out
}

// TestOneCommandIsTwoCalls traces one chat message and one join through
// the whole system: each is the edge's call to the room service and the
// room service's one call to the state service, nothing more.
func TestOneCommandIsTwoCalls(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	any := "127.0.0.1:0"
	unique := strconv.FormatInt(time.Now().UnixNano(), 36)
	sys, err := allinone.Start(ctx, allinone.Config{
		HTTPAddr: any, StateAddr: any, UserAddr: any, RoomAddr: any,
		ConnectionAddr: any, AnalyticsAddr: any, MonitorAddr: any,
		RedisURL: os.Getenv("REDIS_URL"), MongoURI: os.Getenv("MONGODB_URI"),
		Database: "trace_" + unique, DataDir: t.TempDir(), KeyPrefix: storetest.Prefix(t) + "trace:",
		TracerProvider: tp, Propagator: propagation.TraceContext{},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(t, sys) })

	a, b := dialWS(t, sys.URL()), dialWS(t, sys.URL())
	a.await("welcome", func(m *pb.ServerMessage) bool { return m.GetWelcome() != nil })
	b.await("welcome", func(m *pb.ServerMessage) bool { return m.GetWelcome() != nil })
	b.send(`{"id":"b1","join":{"room":"jam","create":true}}`)
	b.await("b's join", reply("b1"))

	a.send(`{"id":"a1","join":{"room":"jam"}}`)
	a.await("a's join", reply("a1"))
	a.send(`{"id":"a2","chat":{"text":"traced hello"}}`)
	a.await("chat ack", reply("a2"))
	b.await("the chat", func(m *pb.ServerMessage) bool { return m.GetChat().GetMessage().GetText() == "traced hello" })
	time.Sleep(100 * time.Millisecond) // the last spans end after the replies

	// The chat's trace shows the Redis commands of the state service's
	// step, as an operator reading it would expect.
	var names []string
	redis := 0
	for _, s := range traceOf(t, rec, "ws.chat") {
		names = append(names, s.Name())
		for _, a := range s.Attributes() {
			if a.Key == "db.system" && a.Value.AsString() == "redis" {
				redis++
			}
		}
	}
	t.Logf("ws.chat trace: %d spans, %d of Redis: %v", len(names), redis, names)
	if redis == 0 {
		t.Errorf("the chat's trace has no Redis span: %v", names)
	}
	for _, root := range []string{"ws.join", "ws.chat"} {
		spans := grpcClientSpans(t, rec, root)
		t.Logf("%s: %d gRPC client spans %v", root, len(spans), spans)
		if len(spans) > 2 {
			t.Errorf("%s made %d gRPC calls, want at most 2: %v", root, len(spans), spans)
		}
	}
}
