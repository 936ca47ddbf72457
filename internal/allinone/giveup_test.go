package allinone_test

import (
	"context"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/internal/allinone"
	"github.com/pianorhythm/server/pkg/store/storetest"
)

// TestGivingUpIsNotSilent crashes the RoomManager on every message until
// its supervisor (the room service's root) gives up on it: the room
// service's gRPC health turns NOT_SERVING, the edge's /readyz fails, and
// the monitor's error tracker shows what was given up on and why.
func TestGivingUpIsNotSilent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	free := "127.0.0.1:0"
	unique := strconv.FormatInt(time.Now().UnixNano(), 36)
	sys, err := allinone.Start(ctx, allinone.Config{
		HTTPAddr: free, StateAddr: free, UserAddr: free, RoomAddr: free,
		ConnectionAddr: free, AnalyticsAddr: free, MonitorAddr: free,
		RedisURL: os.Getenv("REDIS_URL"), MongoURI: os.Getenv("MONGODB_URI"),
		Database: "giveup_" + unique, DataDir: t.TempDir(), KeyPrefix: storetest.Prefix(t) + "giveup:",
		Admins: []string{"root"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(t, sys) })
	r := rest{t: t, base: sys.URL()}
	var root pb.AuthResponse
	r.must("POST", "/v1/auth/register", "", &pb.RegisterRequest{Username: "root", Password: "correct horse"}, &root)

	conn, err := grpc.NewClient(sys.Addr("room"), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	health := func() healthpb.HealthCheckResponse_ServingStatus {
		c, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		res, err := healthpb.NewHealthClient(conn).Check(c, &healthpb.HealthCheckRequest{})
		if err != nil {
			t.Fatal(err)
		}
		return res.GetStatus()
	}
	if health() != healthpb.HealthCheckResponse_SERVING {
		t.Fatal("the room service does not start serving")
	}

	var crashes atomic.Int32
	sys.SetRoomHook(func(roomID string, msg any) {
		if roomID == "" && msg != nil {
			crashes.Add(1)
			panic("injected room manager failure")
		}
	})
	// Every request crashes the RoomManager once; its supervisor restarts
	// it with a growing backoff until the intensity (5 in 10 s) is spent.
	deadline := time.Now().Add(20 * time.Second)
	for health() == healthpb.HealthCheckResponse_SERVING {
		if time.Now().After(deadline) {
			t.Fatalf("still SERVING after %d crashes of the room manager", crashes.Load())
		}
		r.do("GET", "/v1/rooms/lobby/members", root.GetAccessToken(), nil, nil)
		r.do("POST", "/v1/rooms/lobby/join", root.GetAccessToken(), &pb.JoinRoomRequest{}, nil)
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("the room service is NOT_SERVING after %d crashes", crashes.Load())

	resp, err := http.Get(sys.URL() + "readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz = %d with the room service not serving, want 503", resp.StatusCode)
	}

	var groups pb.ListErrorGroupsResponse
	found := false
	for end := time.Now().Add(5 * time.Second); !found && time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		r.must("GET", "/v1/admin/errors", root.GetAccessToken(), nil, &groups)
		for _, g := range groups.GetGroups() {
			if g.GetService() == "room" && strings.Contains(g.GetMessage(), "gave up on actor room-manager") {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("the error tracker does not show the give-up: %v", &groups)
	}
}
