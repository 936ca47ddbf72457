package rpc_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/rpc"
)

// TestWatchReadyFollowsTheService: health turns NOT_SERVING when the
// service's own check fails, and SERVING again when it passes.
func TestWatchReadyFollowsTheService(t *testing.T) {
	srv, err := rpc.NewServer(rpc.ServerConfig{Name: "svc", Addr: "127.0.0.1:0", Logger: quietLogger(), ServiceKeys: auth.NewServiceKeys()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	srv.SetServing("pianorhythm.v1.Test", true)
	var broken atomic.Bool
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		srv.WatchReady(ctx, "pianorhythm.v1.Test", func(context.Context) error {
			if broken.Load() {
				return errors.New("actor gave up")
			}
			return nil
		}, quietLogger())
	}()
	t.Cleanup(func() { cancel(); <-watched; <-served })

	conn, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	status := func() healthpb.HealthCheckResponse_ServingStatus {
		c, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		res, err := healthpb.NewHealthClient(conn).Check(c, &healthpb.HealthCheckRequest{Service: "pianorhythm.v1.Test"})
		if err != nil {
			t.Fatal(err)
		}
		return res.GetStatus()
	}
	waitFor := func(want healthpb.HealthCheckResponse_ServingStatus) {
		t.Helper()
		deadline := time.Now().Add(3 * rpc.ReadyInterval)
		for status() != want {
			if time.Now().After(deadline) {
				t.Fatalf("health is not %v after %v", want, 3*rpc.ReadyInterval)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor(healthpb.HealthCheckResponse_SERVING)
	broken.Store(true)
	waitFor(healthpb.HealthCheckResponse_NOT_SERVING)
	broken.Store(false)
	waitFor(healthpb.HealthCheckResponse_SERVING)
}
