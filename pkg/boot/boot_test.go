package boot

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/rpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// testKeys are the service keys of every Program of the package's tests:
// TestMain hands them over as PR_SERVICE_KEY, as an operator would.
var testKeys = auth.NewServiceKeys()

func TestMain(m *testing.M) {
	os.Setenv("PR_SERVICE_KEY", testKeys.Encode())
	goleak.VerifyTestMain(m)
}

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
	deadline := time.Now().Add(5 * time.Second) // health needs no service credential
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

func TestParseRefusesAMissingOrBadServiceKey(t *testing.T) {
	for _, tt := range []struct{ value, want string }{
		{"", "PR_SERVICE_KEY is not set"},
		{"c2hvcnQ=", "PR_SERVICE_KEY: service key 1: 5 bytes"},
		{"REPLACE ME", "PR_SERVICE_KEY: service key 1: not base64"},
	} {
		p := New("room", "127.0.0.1:0", []string{"-service-key", tt.value})
		err := p.Parse(context.Background())
		p.Close()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse with key %q = %v, want %q", tt.value, err, tt.want)
		}
	}
}

// TestServeAuthenticatesCallersAndTokens: the server Serve builds refuses
// calls without the fleet's credential, and verifies the bearer tokens of
// the others with the program's verifier, whatever the program (the
// monitor and analytics programs get the same as the rest).
func TestServeAuthenticatesCallersAndTokens(t *testing.T) {
	for _, name := range []string{"monitor", "analytics"} {
		t.Run(name, func(t *testing.T) {
			addr := freeAddr(t)
			p := New(name, addr, nil)
			defer p.Close()
			if err := p.Parse(context.Background()); err != nil {
				t.Fatal(err)
			}
			var seen auth.Identity
			p.SetTokens(tokens{"admin-token": {UserID: "ada", Roles: []pb.Role{pb.Role_ADMIN}}})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				done <- p.Serve(ctx, "pianorhythm.v1.StateService", func(gs *grpc.Server) {
					pb.RegisterStateServiceServer(gs, configServer{seen: &seen})
				})
			}()
			defer func() { cancel(); <-done }()

			signed, err := p.Dial("state", addr)
			if err != nil {
				t.Fatal(err)
			}
			withToken := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer admin-token")
			var last error
			for range 100 { // until the server listens
				if _, last = pb.NewStateServiceClient(signed).GetConfig(withToken, &pb.GetConfigRequest{}); status.Code(last) != codes.Unavailable {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if last != nil || seen.UserID != "ada" {
				t.Fatalf("signed call with an admin token = %v, identity %+v", last, seen)
			}
			bad := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer forged")
			if _, err := pb.NewStateServiceClient(signed).GetConfig(bad, &pb.GetConfigRequest{}); status.Code(err) != codes.Unauthenticated {
				t.Fatalf("a bad token = %v, want Unauthenticated", err)
			}
			plain, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				t.Fatal(err)
			}
			defer plain.Close()
			if _, err := pb.NewStateServiceClient(plain).GetConfig(withToken, &pb.GetConfigRequest{}); status.Code(err) != codes.Unauthenticated || rpc.Reason(err) != "UNAUTHENTICATED" {
				t.Fatalf("an unsigned call with an admin token = %v, want Unauthenticated", err)
			}
		})
	}
}

// tokens verifies a fixed table of tokens (pure logic, for Serve's wiring).
type tokens map[string]auth.Identity

func (tt tokens) Verify(_ context.Context, token string) (auth.Identity, error) {
	if id, ok := tt[token]; ok {
		return id, nil
	}
	return auth.Identity{}, errors.New("unknown token")
}

// configServer answers GetConfig and records who asked.
type configServer struct {
	pb.UnimplementedStateServiceServer
	seen *auth.Identity
}

func (c configServer) GetConfig(ctx context.Context, _ *pb.GetConfigRequest) (*pb.ServerConfig, error) {
	*c.seen, _ = auth.FromContext(ctx)
	return &pb.ServerConfig{}, nil
}
