package monitorsvc_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/rpc"
	"github.com/pianorhythm/server/pkg/store/storetest"
	"github.com/pianorhythm/server/services/monitor/monitorsvc"
)

func byName(t *testing.T, rep *pb.StatusReport) map[string]*pb.ComponentStatus {
	t.Helper()
	m := map[string]*pb.ComponentStatus{}
	for _, c := range rep.GetComponents() {
		m[c.GetName()] = c
	}
	return m
}

func TestStatusChecksTargetsRedisAndMongo(t *testing.T) {
	ctx := ctxT(t)
	up := target(t)
	// A server that stopped: its port refuses connections.
	gone, err := rpc.NewServer(rpc.ServerConfig{ServiceKeys: serviceKeys, Name: "gone", Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	gone.Close()

	e := start(t, monitorsvc.Config{History: 4}, monitorsvc.Deps{
		Targets: []monitorsvc.Target{
			{Name: "state", Conn: dial(t, up.Addr())},
			{Name: "room", Conn: dial(t, gone.Addr())},
		},
		Redis: storetest.Redis(t),
		Mongo: storetest.Mongo(t),
	})

	rep, err := e.client.Status(ctx, &pb.StatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.GetHealthy() || len(rep.GetComponents()) != 4 || rep.GetComponents()[0].GetError() != "not checked yet" {
		t.Fatalf("before any check: %v", rep)
	}

	if err := e.svc.CheckNow(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err = e.client.Status(ctx, &pb.StatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range rep.GetComponents() {
		names = append(names, c.GetName())
	}
	if got := strings.Join(names, ","); got != "state,room,redis,mongodb" {
		t.Fatalf("components %s, want targets in order then redis, mongodb", got)
	}
	cs := byName(t, rep)
	for _, tt := range []struct {
		name   string
		up     bool
		uptime float64
	}{
		{"state", true, 1}, {"room", false, 0}, {"redis", true, 1}, {"mongodb", true, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := cs[tt.name]
			if c.GetUp() != tt.up || c.GetUptime() != tt.uptime || !c.GetCheckedAt().AsTime().Equal(t0) {
				t.Fatalf("%s = %v, want up=%v uptime=%v checked at %v", tt.name, c, tt.up, tt.uptime, t0)
			}
			if tt.up && (c.GetError() != "" || c.GetLatencyMs() <= 0) {
				t.Fatalf("%s up but error %q, latency %v", tt.name, c.GetError(), c.GetLatencyMs())
			}
			if !tt.up && c.GetError() == "" {
				t.Fatalf("%s down without an error", tt.name)
			}
		})
	}
	if rep.GetHealthy() {
		t.Fatal("healthy with a component down")
	}

	// Uptime is the share of the kept history (4 checks) that was up.
	up.SetServing("", false)
	e.clock.Advance(10e9)
	if err := e.svc.CheckNow(ctx); err != nil {
		t.Fatal(err)
	}
	state := byName(t, mustStatus(t, e))["state"]
	if state.GetUp() || state.GetUptime() != 0.5 || !strings.Contains(state.GetError(), "NOT_SERVING") {
		t.Fatalf("after one failed check of two: %v", state)
	}
	for range 3 {
		if err := e.svc.CheckNow(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if s := byName(t, mustStatus(t, e))["state"]; s.GetUptime() != 0 {
		t.Fatalf("history of 4 should have forgotten the up check: %v", s)
	}
	up.SetServing("", true)
	if err := e.svc.CheckNow(ctx); err != nil {
		t.Fatal(err)
	}
	if s := byName(t, mustStatus(t, e))["state"]; !s.GetUp() || s.GetUptime() != 0.25 {
		t.Fatalf("back up: %v, want uptime 0.25", s)
	}
}

func mustStatus(t *testing.T, e *env) *pb.StatusReport {
	t.Helper()
	rep, err := e.client.Status(ctxT(t), &pb.StatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestStatusRunsChecksOnItsOwn(t *testing.T) {
	up := target(t)
	e := start(t, monitorsvc.Config{CheckInterval: 20e6}, monitorsvc.Deps{
		Targets: []monitorsvc.Target{{Name: "state", Conn: dial(t, up.Addr())}},
	})
	// The first round runs at once; poll the result rather than sleep a
	// guessed time.
	for ctx := ctxT(t); ; {
		if mustStatus(t, e).GetHealthy() {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatal("no automatic check recorded")
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func TestStatusPage(t *testing.T) {
	ctx := ctxT(t)
	up := target(t)
	down := target(t)
	down.SetServing("", false)
	e := start(t, monitorsvc.Config{}, monitorsvc.Deps{
		Targets: []monitorsvc.Target{{Name: "user", Conn: dial(t, up.Addr())}, {Name: "analytics", Conn: dial(t, down.Addr())}},
	})
	if err := e.svc.CheckNow(ctx); err != nil {
		t.Fatal(err)
	}
	page := httptest.NewServer(e.svc.StatusHandler())
	t.Cleanup(page.Close)

	get := func(t *testing.T, path, accept string) (string, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, page.URL+path, nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := page.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", path, resp.Status)
		}
		return resp.Header.Get("Content-Type"), string(b)
	}

	t.Run("html", func(t *testing.T) {
		ct, body := get(t, "/status", "text/html")
		if !strings.HasPrefix(ct, "text/html") {
			t.Fatalf("content type %s", ct)
		}
		for _, want := range []string{
			"<td>user</td><td class=\"up\" title=\"\">up</td>", "<td>analytics</td><td class=\"down\"", "100.00%", "0.00%",
			"Some systems are down", "<svg class=\"spark\"", "MiB</td>",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("page lacks %q:\n%s", want, body)
			}
		}
	})
	for _, tt := range []struct{ name, path, accept string }{
		{"accept", "/status", "application/json"},
		{"query", "/status?format=json", ""},
	} {
		t.Run("json by "+tt.name, func(t *testing.T) {
			ct, body := get(t, tt.path, tt.accept)
			if ct != "application/json" {
				t.Fatalf("content type %s", ct)
			}
			var rep pb.StatusReport
			if err := protojson.Unmarshal([]byte(body), &rep); err != nil {
				t.Fatalf("decode %s: %v", body, err)
			}
			cs := byName(t, &rep)
			if rep.GetHealthy() || !cs["user"].GetUp() || cs["analytics"].GetUp() || cs["user"].GetUptime() != 1 {
				t.Fatalf("report %v", &rep)
			}
			u := cs["user"].GetResources()
			if cs["user"].GetState() != "up" || cs["analytics"].GetState() != "down" || u.GetMemoryBytes() <= 0 ||
				u.GetGoroutines() <= 0 || u.GetGrpcConnections() < 1 || len(cs["user"].GetLatencyHistoryMs()) != 1 {
				t.Fatalf("figures of the user service: %v", cs["user"])
			}
			// Plain JSON decoders see the REST API's field names, false included.
			var raw map[string]any
			if err := json.Unmarshal([]byte(body), &raw); err != nil || raw["components"] == nil || raw["healthy"] != false {
				t.Fatalf("not plain JSON with components: %s", body)
			}
		})
	}
}
