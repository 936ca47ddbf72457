package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/pianorhythm/server/pkg/auth"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Backend is one service behind the gateway.
type Backend struct {
	// Name is shown by /readyz.
	Name string
	Conn *grpc.ClientConn
	// Register is the generated pb.Register<Service>Handler.
	Register func(ctx context.Context, mux *runtime.ServeMux, conn *grpc.ClientConn) error
}

// NewMux registers every backend with a Conn on one gateway mux, which
// speaks JSON as Marshaler says.
func NewMux(ctx context.Context, backends []Backend) (*runtime.ServeMux, error) {
	mux := runtime.NewServeMux(
		runtime.WithIncomingHeaderMatcher(HeaderMatcher),
		runtime.WithMarshalerOption(runtime.MIMEWildcard, Marshaler()),
	)
	for _, b := range backends {
		if b.Conn == nil {
			continue
		}
		if err := b.Register(ctx, mux, b.Conn); err != nil {
			return nil, fmt.Errorf("register %s gateway: %w", b.Name, err)
		}
	}
	return mux, nil
}

// HeaderMatcher forwards Authorization and the gateway's defaults, and
// drops any client header that would pose as the identity metadata trusted
// between services (x-pr-*).
func HeaderMatcher(key string) (string, bool) {
	k := strings.ToLower(key)
	if strings.HasPrefix(k, "x-pr-") || k == auth.MDUserID {
		return "", false
	}
	if k == "authorization" {
		return k, true
	}
	return runtime.DefaultHeaderMatcher(key)
}

// Check is one readiness probe; nil error means ready.
type Check struct {
	Name  string
	Check func(ctx context.Context) error
	// Optional checks are reported when they fail, under "degraded", but
	// do not fail readiness: what the edge serves works without them.
	Optional bool
}

// HealthCheck probes conn's gRPC health service for the whole server, on
// every call (nothing is cached). A channel that is waiting out its
// reconnect backoff after a failure would answer "unavailable" until the
// backoff ends, seconds after the peer is back: the probe makes it connect
// now (ResetConnectBackoff, Connect) and asks once it has tried, so
// readiness follows the peer within a probe, however long it was away.
func HealthCheck(conn *grpc.ClientConn) func(ctx context.Context) error {
	client := healthpb.NewHealthClient(conn)
	return func(ctx context.Context) error {
		switch st := conn.GetState(); st {
		case connectivity.TransientFailure:
			conn.ResetConnectBackoff()
			conn.WaitForStateChange(ctx, st)
		case connectivity.Idle:
			conn.Connect()
			conn.WaitForStateChange(ctx, st)
		}
		res, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
		if err != nil {
			return err
		}
		if res.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			return fmt.Errorf("status %s", res.GetStatus())
		}
		return nil
	}
}

// Ready answers 200 when every check that is not Optional passes within
// timeout, else 503 with {"ready":false,"notReady":{"name":"why",...}};
// failing optional checks are listed under "degraded" either way. The
// checks run, in parallel, on every request: the answer is never older
// than the request.
func Ready(checks []Check, timeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		var (
			mu                 sync.Mutex
			wg                 sync.WaitGroup
			notReady, degraded = map[string]string{}, map[string]string{}
		)
		for _, c := range checks {
			wg.Go(func() {
				err := c.Check(ctx)
				if err == nil {
					return
				}
				mu.Lock()
				defer mu.Unlock()
				if c.Optional {
					degraded[c.Name] = err.Error()
				} else {
					notReady[c.Name] = err.Error()
				}
			})
		}
		wg.Wait()
		body := map[string]any{"ready": len(notReady) == 0}
		if len(degraded) > 0 {
			body["degraded"] = degraded
		}
		w.Header().Set("Content-Type", "application/json")
		if len(notReady) > 0 {
			body["notReady"] = notReady
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		json.NewEncoder(w).Encode(body)
	})
}
