package boot

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestPeerReadsTheSharedVariable(t *testing.T) {
	t.Setenv("PR_STATE_ADDR", "state:9101")
	p := New("room", "127.0.0.1:0", nil)
	state := p.Peer("state", "127.0.0.1:9101")
	if err := p.Flags.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if *state != "state:9101" {
		t.Fatalf("-state-addr = %q, want PR_STATE_ADDR's state:9101", *state)
	}
}

func TestParseRefusesABadLogLevel(t *testing.T) {
	p := New("state", "127.0.0.1:0", []string{"-log-level", "loud"})
	defer p.Close()
	if err := p.Parse(context.Background()); err == nil || !strings.Contains(err.Error(), "PR_LOG_LEVEL") {
		t.Fatalf("Parse = %v, want an error naming PR_LOG_LEVEL", err)
	}
}

func TestClosersRunInReverseOrder(t *testing.T) {
	p := New("state", "127.0.0.1:0", nil)
	var order []int
	for i := range 3 {
		p.Defer(func(context.Context) error { order = append(order, i); return nil })
	}
	boom := errors.New("boom")
	p.Defer(func(context.Context) error { return boom })
	if err := p.Close(); !errors.Is(err, boom) {
		t.Fatalf("Close = %v, want the closer's error", err)
	}
	if len(order) != 3 || order[0] != 2 || order[2] != 0 {
		t.Fatalf("closers ran in order %v, want [2 1 0]", order)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close = %v, want nil (nothing left)", err)
	}
}

// TestServeUntilCancelled serves the health service on a free port until
// the context ends, and a taken port fails with its address.
func TestServeUntilCancelled(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()

	p := New("state", addr, nil)
	defer p.Close()
	if err := p.Parse(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Serve(ctx, "test.Service", func(*grpc.Server) {}) }()

	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		cctx, ccancel := context.WithTimeout(context.Background(), time.Second)
		resp, err := healthpb.NewHealthClient(conn).Check(cctx, &healthpb.HealthCheckRequest{Service: "test.Service"})
		ccancel()
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("service never SERVING: %v %v", resp, err)
		}
		time.Sleep(20 * time.Millisecond)
	}

	second := New("state", addr, nil)
	defer second.Close()
	if err := second.Parse(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := second.Serve(context.Background(), "test.Service", func(*grpc.Server) {}); err == nil || !strings.Contains(err.Error(), addr) {
		t.Fatalf("Serve on a taken port = %v, want an error naming %s", err, addr)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve after cancel = %v, want nil", err)
	}
}
