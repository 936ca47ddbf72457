package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/connection/connsvc"
	"github.com/pianorhythm/server/services/connection/internal/codec"
	"github.com/pianorhythm/server/services/user/usersvc"
)

// TestClientAddressFromTrustedProxiesOnly: the address the per-IP limits
// count comes from X-Forwarded-For only when the socket's peer is a
// configured trusted proxy. Directly, a client rotating the header is one
// address and hits the registration limit; through the trusted proxy each
// forwarded client has its own. The WebSocket's recorded address follows
// the same rule.
func TestClientAddressFromTrustedProxiesOnly(t *testing.T) {
	w := newWorldWith(t, worldOpts{user: usersvc.Config{RegisterLimit: 2}})
	direct := w.edge(connsvc.Config{})
	// The test's requests come from loopback: here loopback is the proxy.
	proxied := w.edge(connsvc.Config{TrustedProxies: []string{"127.0.0.1/32", "::1"}})
	n := 0
	register := func(e *edge, xff string) int {
		t.Helper()
		n++
		body := fmt.Sprintf(`{"username":"ip_user_%d","password":"correct horse %d"}`, n, n)
		req, _ := http.NewRequest(http.MethodPost, e.http.URL+"/v1/auth/register", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", xff)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}

	t.Run("REST, directly: the header is not believed", func(t *testing.T) {
		var got []int
		for i := range 3 {
			got = append(got, register(direct, fmt.Sprintf("203.0.113.%d", i+1)))
		}
		if got[0] != 200 || got[1] != 200 || got[2] != http.StatusTooManyRequests {
			t.Fatalf("registrations rotating X-Forwarded-For: %v, want [200 200 429]", got)
		}
	})
	t.Run("REST, through a trusted proxy: one limit per client", func(t *testing.T) {
		got := []int{register(proxied, "198.51.100.1"), register(proxied, "198.51.100.1"), register(proxied, "198.51.100.1"),
			register(proxied, "198.51.100.2")}
		if got[0] != 200 || got[1] != 200 || got[2] != http.StatusTooManyRequests || got[3] != 200 {
			t.Fatalf("registrations of two forwarded clients: %v, want [200 200 429 200]", got)
		}
	})
	t.Run("WebSocket", func(t *testing.T) {
		header := http.Header{"X-Forwarded-For": {"203.0.113.50"}}
		for _, tt := range []struct {
			name   string
			e      *edge
			prefix string
		}{
			{"directly", direct, "127.0.0.1:"},
			{"through a trusted proxy", proxied, "203.0.113.50"},
		} {
			c := tt.e.dialWith(t, codec.JSON, "", header)
			res, err := tt.e.admin.ListConnections(as(t, pb.Role_ADMIN), &pb.ListConnectionsRequest{UserId: c.id()})
			if err != nil || len(res.GetConnections()) != 1 {
				t.Fatalf("%s: list %v %v", tt.name, res, err)
			}
			if addr := res.GetConnections()[0].GetRemoteAddr(); !strings.HasPrefix(addr, tt.prefix) {
				t.Fatalf("%s: remote address %q, want %q...", tt.name, addr, tt.prefix)
			}
		}
	})
}
