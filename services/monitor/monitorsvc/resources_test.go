package monitorsvc_test

import (
	"strings"
	"testing"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/rpc"
	"github.com/pianorhythm/server/services/monitor/monitorsvc"
)

// TestThresholdsMarkComponentsDegraded: a service past one of its
// component's thresholds is up but degraded, with the reason; the others
// keep the defaults; CPU is the share between two checks.
func TestThresholdsMarkComponentsDegraded(t *testing.T) {
	ctx := ctxT(t)
	busy := func() *rpc.Server {
		srv, err := rpc.NewServer(rpc.ServerConfig{ServiceKeys: serviceKeys, Name: "busy", Logger: quiet(),
			Gauges: func() map[string]float64 { return map[string]float64{"websocket_connections": 7} }})
		if err != nil {
			t.Fatal(err)
		}
		srv.SetServing("", true)
		serve(t, srv)
		return srv
	}()
	calm := target(t)
	th, err := monitorsvc.ParseThresholds("default:goroutines=100000,cpu=10000,latency=1m;room:goroutines=1,memory=1KiB")
	if err != nil {
		t.Fatal(err)
	}
	e := start(t, monitorsvc.Config{Thresholds: th, Sparkline: 3}, monitorsvc.Deps{
		Targets: []monitorsvc.Target{{Name: "room", Conn: dial(t, busy.Addr())}, {Name: "user", Conn: dial(t, calm.Addr())}},
	})
	for range 4 {
		if err := e.svc.CheckNow(ctx); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(10 * time.Second)
	}
	rep, err := e.client.Status(ctx, &pb.StatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	cs := byName(t, rep)
	room, user := cs["room"], cs["user"]
	if !rep.GetHealthy() || !rep.GetDegraded() {
		t.Errorf("healthy %v degraded %v, want a healthy system with a degraded part", rep.GetHealthy(), rep.GetDegraded())
	}
	if room.GetState() != "degraded" || !room.GetUp() {
		t.Fatalf("room: %v", room)
	}
	reasons := strings.Join(room.GetDegradedReasons(), "; ")
	for _, want := range []string{"goroutines", "memory", "> 1.0 KiB"} {
		if !strings.Contains(reasons, want) {
			t.Errorf("reasons %q lack %q", reasons, want)
		}
	}
	if user.GetState() != "up" || len(user.GetDegradedReasons()) != 0 {
		t.Errorf("user keeps the default thresholds and is up: %v", user)
	}
	if n := len(room.GetLatencyHistoryMs()); n != 3 {
		t.Errorf("sparkline of %d points, want the last 3", n)
	}
	if got := room.GetResources().GetGauges()["websocket_connections"]; got != 7 {
		t.Errorf("gauge %v", got)
	}
	if cpu := room.GetResources().GetCpuPercent(); cpu < 0 {
		t.Errorf("cpu %v", cpu)
	}

	for _, bad := range []string{"room", "room:speed=3", "room:latency=fast", ":cpu=1"} {
		if _, err := monitorsvc.ParseThresholds(bad); err == nil {
			t.Errorf("ParseThresholds(%q) accepted", bad)
		}
	}
}
