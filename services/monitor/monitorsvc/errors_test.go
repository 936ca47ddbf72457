package monitorsvc_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/pkg/rpc"
	"github.com/pianorhythm/server/services/monitor/monitorsvc"
)

func groups(t *testing.T, e *env) []*pb.ErrorGroup {
	t.Helper()
	resp, err := e.client.ListErrorGroups(ctxT(t), &pb.ListErrorGroupsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetGroups()
}

func report(t *testing.T, e *env, r *pb.ErrorReport) {
	t.Helper()
	if _, err := e.client.ReportError(ctxT(t), r); err != nil {
		t.Fatalf("ReportError: %v", err)
	}
}

func TestErrorGrouping(t *testing.T) {
	e := start(t, monitorsvc.Config{}, monitorsvc.Deps{})

	report(t, e, &pb.ErrorReport{Service: "room", Message: "room r-123 not found for user 6f1c2a9e-8d4b-4c1e-9f3a-2b7c5d8e1f00", TraceId: "t1"})
	e.clock.Advance(5 * time.Second)
	report(t, e, &pb.ErrorReport{Service: "room", Message: "room r-9 not found for user 0a1b2c3d-4e5f-4a1b-8c9d-0e1f2a3b4c5d", TraceId: "t2"})
	e.clock.Advance(time.Second)
	report(t, e, &pb.ErrorReport{Service: "room", Message: "chat store unreachable"})
	// An explicit fingerprint wins over the message.
	report(t, e, &pb.ErrorReport{Service: "user", Message: "a", Fingerprint: "fp-x"})
	report(t, e, &pb.ErrorReport{Service: "user", Message: "b", Fingerprint: "fp-x",
		At: timestamppb.New(t0.Add(-time.Hour))})

	gs := groups(t, e)
	if len(gs) != 3 {
		t.Fatalf("%d groups, want 3: %v", len(gs), gs)
	}
	// Most recently seen first: the two with the clock at t0+6s, then the
	// room-not-found group at t0+5s.
	notFound := gs[2]
	if notFound.GetCount() != 2 || notFound.GetService() != "room" ||
		!notFound.GetFirstSeen().AsTime().Equal(t0) || !notFound.GetLastSeen().AsTime().Equal(t0.Add(5*time.Second)) ||
		notFound.GetLastTraceId() != "t2" || !strings.HasPrefix(notFound.GetMessage(), "room r-9") || notFound.GetFingerprint() == "" {
		t.Fatalf("not-found group %v", notFound)
	}
	var fx *pb.ErrorGroup
	for _, g := range gs {
		if g.GetFingerprint() == "fp-x" {
			fx = g
		}
	}
	if fx == nil || fx.GetCount() != 2 || !fx.GetFirstSeen().AsTime().Equal(t0.Add(-time.Hour)) ||
		!fx.GetLastSeen().AsTime().Equal(t0.Add(6*time.Second)) || fx.GetMessage() != "a" {
		t.Fatalf("explicit fingerprint group %v", fx)
	}

	t.Run("validation", func(t *testing.T) {
		_, err := e.client.ReportError(ctxT(t), &pb.ErrorReport{Service: "room"})
		if status.Code(err) != codes.InvalidArgument || !rpc.IsReason(err, pb.ErrorReason_INVALID_ARGUMENT) {
			t.Fatalf("empty message: %v", err)
		}
	})
}

// hook records webhook calls.
type hook struct {
	mu     sync.Mutex
	alerts []map[string]any
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var a map[string]any
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" ||
		json.NewDecoder(r.Body).Decode(&a) != nil {
		http.Error(w, "bad alert", http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.alerts = append(h.alerts, a)
	h.mu.Unlock()
}

func (h *hook) calls() []map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]map[string]any(nil), h.alerts...)
}

func TestWebhookOnSpike(t *testing.T) {
	h := &hook{}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e := start(t, monitorsvc.Config{WebhookURL: srv.URL, SpikeThreshold: 3}, monitorsvc.Deps{HTTPClient: srv.Client()})
	ctx := ctxT(t)

	burst := func(n int, msg string) {
		t.Helper()
		for range n {
			report(t, e, &pb.ErrorReport{Service: "state", Message: msg, TraceId: "tr"})
			e.clock.Advance(time.Second)
		}
		if err := e.svc.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}

	burst(3, "redis timeout after 500ms")
	if n := len(h.calls()); n != 0 {
		t.Fatalf("%d alerts at the threshold, want none", n)
	}
	burst(1, "redis timeout after 501ms") // the 4th within a minute
	calls := h.calls()
	if len(calls) != 1 {
		t.Fatalf("%d alerts after the spike, want 1", len(calls))
	}
	a := calls[0]
	if a["service"] != "state" || a["count"] != float64(4) || a["in_window"] != float64(4) ||
		a["trace_id"] != "tr" || !strings.Contains(a["text"].(string), "error spike") || a["fingerprint"] == "" {
		t.Fatalf("alert %v", a)
	}

	burst(10, "redis timeout after 9ms")
	if n := len(h.calls()); n != 1 {
		t.Fatalf("%d alerts, want still 1 within the window", n)
	}
	// A different group spikes on its own.
	burst(4, "mongo write failed")
	if n := len(h.calls()); n != 2 {
		t.Fatalf("%d alerts, want 2 after a second group spiked", n)
	}
	// A minute later the first group may alert again.
	e.clock.Advance(time.Minute)
	burst(4, "redis timeout after 1ms")
	if n := len(h.calls()); n != 3 {
		t.Fatalf("%d alerts, want 3 after the window passed", n)
	}
}

// panicky is a StateService whose GetUser panics.
type panicky struct {
	pb.UnimplementedStateServiceServer
}

func (panicky) GetUser(context.Context, *pb.GetUserRequest) (*pb.User, error) {
	var m map[string]int
	m["boom"]++ // a nil map write: a runtime panic like a real bug
	return nil, nil
}

type crasher struct{}

type crash struct{ n int }

func (crasher) Receive(c *actor.Context) {
	switch m := c.Message().(type) {
	case crash:
		panic("bad message " + string(rune('0'+m.n)))
	case string:
		c.Respond(m)
	}
}

func TestPanicHooks(t *testing.T) {
	e := start(t, monitorsvc.Config{}, monitorsvc.Deps{})
	ctx := ctxT(t)

	t.Run("grpc interceptor", func(t *testing.T) {
		srv, err := rpc.NewServer(rpc.ServerConfig{ServiceKeys: serviceKeys, Name: "state", Logger: quiet(), OnPanic: e.svc.ReportPanic})
		if err != nil {
			t.Fatal(err)
		}
		pb.RegisterStateServiceServer(srv.GRPC(), panicky{})
		serve(t, srv)
		client := pb.NewStateServiceClient(dial(t, srv.Addr()))
		for range 2 {
			if _, err := client.GetUser(ctx, &pb.GetUserRequest{}); status.Code(err) != codes.Internal {
				t.Fatalf("panicking call: %v", err)
			}
		}
	})
	t.Run("actor supervisor", func(t *testing.T) {
		sys := actor.NewSystem(actor.Config{Logger: quiet(), OnPanic: e.svc.PanicReporter("room")})
		defer func() {
			if err := sys.Shutdown(ctx); err != nil {
				t.Error(err)
			}
		}()
		ref, err := sys.Spawn(actor.Props{Kind: "room", New: func() actor.Actor { return crasher{} }, MaxRetries: -1})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			if err := ref.Tell(ctx, crash{n: i}); err != nil {
				t.Fatal(err)
			}
		}
		// Answered after both crashes: the user lane is in order.
		if _, err := ref.Ask(ctx, "after"); err != nil {
			t.Fatal(err)
		}
	})

	if err := e.svc.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	byService := map[string]*pb.ErrorGroup{}
	for _, g := range groups(t, e) {
		byService[g.GetService()] = g
	}
	if g := byService["state"]; g == nil || g.GetCount() != 2 ||
		!strings.Contains(g.GetMessage(), "panic in /pianorhythm.v1.StateService/GetUser") ||
		!strings.Contains(g.GetMessage(), "nil map") {
		t.Fatalf("gRPC panic group %v", g)
	}
	// Two panics with different values at one place are one group.
	if g := byService["room"]; g == nil || g.GetCount() != 2 || !strings.Contains(g.GetMessage(), "panic in room: bad message") {
		t.Fatalf("actor panic group %v in %v", g, byService)
	}
}

// faulty fails GetUser with an Internal error naming a different id each
// time, as a broken dependency would.
type faulty struct {
	pb.UnimplementedStateServiceServer
	n *atomic.Int64
}

func (f faulty) GetUser(context.Context, *pb.GetUserRequest) (*pb.User, error) {
	return nil, status.Errorf(codes.Internal, "decode user record %d: truncated", f.n.Add(1))
}

// TestFaultHook: server faults a gRPC handler returns are grouped like
// panics, through rpc.ServerConfig.OnError.
func TestFaultHook(t *testing.T) {
	e := start(t, monitorsvc.Config{}, monitorsvc.Deps{})
	ctx := ctxT(t)
	srv, err := rpc.NewServer(rpc.ServerConfig{ServiceKeys: serviceKeys, Name: "state", Logger: quiet(), OnError: e.svc.ReportFault})
	if err != nil {
		t.Fatal(err)
	}
	pb.RegisterStateServiceServer(srv.GRPC(), faulty{n: new(atomic.Int64)})
	serve(t, srv)
	client := pb.NewStateServiceClient(dial(t, srv.Addr()))
	for range 3 {
		if _, err := client.GetUser(ctx, &pb.GetUserRequest{UserId: "u"}); status.Code(err) != codes.Internal {
			t.Fatalf("call: %v", err)
		}
	}
	if err := e.svc.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	gs := groups(t, e)
	if len(gs) != 1 || gs[0].GetCount() != 3 || gs[0].GetService() != "state" ||
		!strings.Contains(gs[0].GetMessage(), "/pianorhythm.v1.StateService/GetUser: decode user record") {
		t.Fatalf("groups = %v, want one group of 3 faults", gs)
	}
}
