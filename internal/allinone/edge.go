package allinone

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/pianorhythm/server/api"
	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// edgeHandler is the edge's HTTP surface until the connection service
// lands: health, readiness, the REST gateway, OpenAPI and metrics.
func (s *System) edgeHandler(ctx context.Context) (http.Handler, error) {
	gw := runtime.NewServeMux()
	registers := []struct {
		service string
		fn      func(context.Context, *runtime.ServeMux, *grpc.ClientConn) error
	}{
		{"user", pb.RegisterUserServiceHandler},
		{"room", pb.RegisterRoomServiceHandler},
		{"state", pb.RegisterStateServiceHandler},
		{"connection", pb.RegisterConnectionServiceHandler},
		{"analytics", pb.RegisterAnalyticsServiceHandler},
		{"monitor", pb.RegisterMonitorServiceHandler},
	}
	for _, r := range registers {
		if err := r.fn(ctx, gw, s.byName[r.service].conn); err != nil {
			return nil, fmt.Errorf("gateway for %s: %w", r.service, err)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/v1/", gw)
	mux.Handle("/.well-known/", gw)
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(api.OpenAPI)
	})
	mux.Handle("GET /metrics", s.cfg.Metrics)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintln(w, "<!doctype html><title>PianoRhythm</title><p>PianoRhythm server is running. The web client arrives with the connection service.</p>")
	})
	return mux, nil
}

// readyz answers 200 once every service reports SERVING.
func (s *System) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	status := map[string]string{}
	ready := true
	for _, svc := range s.services {
		resp, err := healthpb.NewHealthClient(svc.conn).Check(ctx, &healthpb.HealthCheckRequest{})
		switch {
		case err != nil:
			status[svc.name] = err.Error()
			ready = false
		case resp.GetStatus() != healthpb.HealthCheckResponse_SERVING:
			status[svc.name] = resp.GetStatus().String()
			ready = false
		default:
			status[svc.name] = "SERVING"
		}
	}
	w.Header().Set("Content-Type", "application/json")
	if !ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	json.NewEncoder(w).Encode(map[string]any{"ready": ready, "services": status})
}
