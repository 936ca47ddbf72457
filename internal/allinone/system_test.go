package allinone_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/internal/allinone"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/store/storetest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	rpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
)

// startSystem runs the whole system on free ports, with the real Redis when
// REDIS_URL is set and embedded stores otherwise.
func startSystem(t *testing.T) *allinone.System {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	any := "127.0.0.1:0"
	unique := strconv.FormatInt(time.Now().UnixNano(), 36)
	sys, err := allinone.Start(ctx, allinone.Config{
		HTTPAddr: any, StateAddr: any, UserAddr: any, RoomAddr: any,
		ConnectionAddr: any, AnalyticsAddr: any, MonitorAddr: any,
		RedisURL:  os.Getenv("REDIS_URL"),
		MongoURI:  os.Getenv("MONGODB_URI"),
		Database:  "allinone_test_" + unique,
		DataDir:   t.TempDir(),
		KeyPrefix: storetest.Prefix(t) + "allinone:",
	})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := sys.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return sys
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestSystemServesHealthReadinessAndOpenAPI(t *testing.T) {
	sys := startSystem(t)
	base := sys.URL()

	if code, _ := get(t, base+"healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d, want 200", code)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := get(t, base+"readyz")
		if code == http.StatusOK {
			var r struct {
				Ready bool `json:"ready"`
			}
			if err := json.Unmarshal([]byte(body), &r); err != nil || !r.Ready {
				t.Errorf("/readyz body = %s, want ready", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz still %d after 10s: %s", code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	code, body := get(t, base+"openapi.json")
	if code != http.StatusOK || !json.Valid([]byte(body)) {
		t.Errorf("/openapi.json = %d (valid JSON: %v)", code, json.Valid([]byte(body)))
	}
}

func TestReflectionListsEveryService(t *testing.T) {
	sys := startSystem(t)
	want := map[string]string{
		"state": "pianorhythm.v1.StateService", "user": "pianorhythm.v1.UserService",
		"room": "pianorhythm.v1.RoomService", "connection": "pianorhythm.v1.ConnectionService",
		"analytics": "pianorhythm.v1.AnalyticsService", "monitor": "pianorhythm.v1.MonitorService",
	}
	for name, svc := range want {
		t.Run(name, func(t *testing.T) {
			conn, err := grpc.NewClient(sys.Addr(name), grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			stream, err := rpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := stream.Send(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_ListServices{}}); err != nil {
				t.Fatal(err)
			}
			resp, err := stream.Recv()
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, s := range resp.GetListServicesResponse().GetService() {
				names = append(names, s.GetName())
			}
			if !slices.Contains(names, svc) || !slices.Contains(names, "grpc.health.v1.Health") {
				t.Errorf("reflection on %s lists %v, want %s and grpc.health.v1.Health", name, names, svc)
			}
		})
	}
}

// TestInternalPortsRefuseCallersWithoutTheKey: the all-in-one's services
// listen on loopback with a key made at start; a local process that calls
// them without it, with forged ADMIN metadata, gets Unauthenticated, and
// the system's own connections (which sign) are answered.
func TestInternalPortsRefuseCallersWithoutTheKey(t *testing.T) {
	sys := startSystem(t)
	forged := auth.OutgoingContext(t.Context(), auth.Identity{UserID: "mallory", Roles: []pb.Role{pb.Role_ADMIN}})
	for _, name := range []string{"state", "room", "connection"} {
		conn, err := grpc.NewClient(sys.Addr(name), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var callErr error
		switch name {
		case "state":
			_, callErr = pb.NewStateServiceClient(conn).SetConfig(forged, &pb.SetConfigRequest{Config: &pb.ServerConfig{Maintenance: true}})
		case "room":
			_, callErr = pb.NewRoomServiceClient(conn).SetMaintenance(forged, &pb.SetMaintenanceRequest{Enabled: true})
		case "connection":
			_, callErr = pb.NewConnectionServiceClient(conn).ListConnections(forged, &pb.ListConnectionsRequest{})
		}
		if status.Code(callErr) != codes.Unauthenticated {
			t.Errorf("%s without the key, as a forged admin: %v, want Unauthenticated", name, callErr)
		}
	}
	cfg, err := pb.NewStateServiceClient(sys.Conn("state")).GetConfig(t.Context(), &pb.GetConfigRequest{})
	if err != nil || cfg.GetMaintenance() {
		t.Fatalf("config after the forged calls = %v, %v; want maintenance off", cfg, err)
	}
}
