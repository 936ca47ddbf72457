package e2e

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pianorhythm/server/services/connection/connsvc"
	"github.com/pianorhythm/server/services/connection/internal/codec"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// TestReadinessFollowsARestartedPeer: the user service's server goes away
// for a few seconds (long enough for the edge's channel to back off) and
// comes back on the same address: the first /readyz after it is back
// answers ready. Nothing caches readiness or waits out a backoff.
func TestReadinessFollowsARestartedPeer(t *testing.T) {
	w := newWorld(t)
	e := w.edge(connsvc.Config{})
	probe := func() (int, string) {
		t.Helper()
		res, err := http.Get(e.http.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := probe(); code != http.StatusOK {
		t.Fatalf("before: %d %s", code, body)
	}

	w.userSrv.stop()
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := probe()
		if code == http.StatusServiceUnavailable && strings.Contains(body, `"user"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("user service gone, /readyz still says %d %s", code, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Probes keep failing while it is away; its channel backs off, further
	// with every failed attempt (gRPC's default: 1s, 1.6s, 2.6s, ...).
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(250 * time.Millisecond) {
		if code, body := probe(); code != http.StatusServiceUnavailable {
			t.Fatalf("user service away, /readyz says %d %s", code, body)
		}
	}

	w.userSrv.start()
	if code, body := probe(); code != http.StatusOK {
		t.Fatalf("first probe after the user service is back: %d %s", code, body)
	}
}

// TestReadinessIgnoresAnalyticsAndMonitor: with the analytics and monitor
// services unreachable the edge is still ready (play, chat and rooms do
// not need them; a failing probe would take every edge out of a load
// balancer), and says which are down; without a service players need
// (the user service) it is not.
func TestReadinessIgnoresAnalyticsAndMonitor(t *testing.T) {
	w := newWorld(t)
	dead := func() *grpc.ClientConn {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close() // nothing listens there now
		c, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	e := w.edgeWith(connsvc.Config{}, edgeOpts{analytics: dead(), monitor: dead()})
	probe := func() (int, map[string]any) {
		t.Helper()
		res, err := http.Get(e.http.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body map[string]any
		if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, body
	}
	code, body := probe()
	degraded, _ := body["degraded"].(map[string]any)
	if code != http.StatusOK || body["ready"] != true || degraded["analytics"] == nil || degraded["monitor"] == nil || body["notReady"] != nil {
		t.Fatalf("analytics and monitor down: %d %v, want 200, ready, both reported as degraded", code, body)
	}
	// Players can play meanwhile.
	c := e.dial(t, codec.JSON, "")
	c.join("lobby", false)

	w.userSrv.stop()
	t.Cleanup(w.userSrv.start)
	code, body = probe()
	notReady, _ := body["notReady"].(map[string]any)
	if code != http.StatusServiceUnavailable || body["ready"] != false || notReady["user"] == nil || notReady["analytics"] != nil {
		t.Fatalf("user service down too: %d %v, want 503 naming the user service (only)", code, body)
	}
}
