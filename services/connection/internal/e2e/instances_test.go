package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/connection/connsvc"
	"github.com/pianorhythm/server/services/connection/internal/codec"
)

func TestTwoInstancesShareRooms(t *testing.T) {
	w := newWorld(t)
	// Short TTLs so the crash is noticed in a test's time; production
	// figures are a 30 s TTL and a 5 s sweep (users gone within 35 s).
	cfg := connsvc.Config{HeartbeatTTL: 600 * time.Millisecond, GhostInterval: 200 * time.Millisecond}
	cfg.InstanceID = "edge-a"
	ea := w.edge(cfg)
	cfg.InstanceID = "edge-b"
	eb := w.edge(cfg)

	a := ea.dial(t, codec.Proto, "")
	b := eb.dial(t, codec.JSON, "")
	a.join("shared", true)
	b.join("shared", false)

	a.send(notes(2))
	if got := b.await("notes from the other instance", 5*time.Second, isNotes).GetNotes(); got.GetUserId() != a.id() {
		t.Fatalf("b got %v", got)
	}
	b.send(notes(1))
	if got := a.await("notes from the other instance", 5*time.Second, isNotes).GetNotes(); got.GetUserId() != b.id() {
		t.Fatalf("a got %v", got)
	}
	// The origin skips its own echo from Redis: a hears b's batch once.
	a.quietFor(isNotes)

	// Crash instance b: its calls fail from now on (no cleanup reaches
	// the services), its heartbeat stops, its sockets go.
	eb.down.Store(true)
	crashed := time.Now()
	go eb.stop()
	m := a.await("userLeft of the ghost", 10*time.Second, func(m *pb.ServerMessage) bool {
		return m.GetUserLeft().GetUserId() == b.id()
	})
	if m.GetUserLeft().GetReason() != "ghost" {
		t.Fatalf("userLeft %v", m.GetUserLeft())
	}
	t.Logf("ghost removed %v after the crash", time.Since(crashed))
}

func TestHTTPEndpoints(t *testing.T) {
	w := newWorld(t)
	e := w.edge(connsvc.Config{})
	get := func(path string, header http.Header) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, e.http.URL+path, nil)
		for k, v := range header {
			req.Header[k] = v
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	tests := []struct {
		path string
		code int
		body string
	}{
		{"/healthz", 200, "ok"},
		{"/readyz", 200, `"ready":true`},
		{"/openapi.json", 200, `"swagger"`},
		{"/.well-known/jwks.json", 200, `"Ed25519"`},
		{"/v1/rooms", 200, `"rooms"`},
		{"/v1/config", 200, `{`},
		{"/", 200, "PianoRhythm"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			code, body := get(tt.path, nil)
			if code != tt.code || !strings.Contains(body, tt.body) {
				t.Fatalf("%d %.300s", code, body)
			}
		})
	}

	t.Run("guest login over REST, then Me with the token", func(t *testing.T) {
		res, err := http.Post(e.http.URL+"/v1/auth/guest", "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var auth struct {
			AccessToken string `json:"accessToken"`
			User        struct{ ID string }
		}
		if err := json.NewDecoder(res.Body).Decode(&auth); err != nil || auth.AccessToken == "" {
			t.Fatalf("guest: %d %v", res.StatusCode, err)
		}
		code, body := get("/v1/users/me", http.Header{"Authorization": {"Bearer " + auth.AccessToken}})
		if code != 200 || !strings.Contains(body, auth.User.ID) {
			t.Fatalf("me: %d %s", code, body)
		}
		// A token also opens the WebSocket as that user.
		c := e.dial(t, codec.JSON, auth.AccessToken)
		if c.id() != auth.User.ID {
			t.Fatalf("ws user %s, want %s", c.id(), auth.User.ID)
		}
	})
	t.Run("x-pr identity headers are not forwarded", func(t *testing.T) {
		code, _ := get("/v1/users/me", http.Header{"X-Pr-User-Id": {"admin"}, "X-Pr-Roles": {"ADMIN"},
			"Grpc-Metadata-X-Pr-User-Id": {"admin"}})
		if code == 200 {
			t.Fatal("identity headers from a client were trusted")
		}
	})
	t.Run("bad token: 401", func(t *testing.T) {
		code, _ := get("/ws?token=nope", nil)
		if code != http.StatusUnauthorized {
			t.Fatalf("%d", code)
		}
	})
}
