package clientip

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestOf(t *testing.T) {
	r, err := Parse([]string{"10.0.0.0/8", "192.0.2.1", " ", "::1"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		remote    string
		xff       []string
		want      string
		forwarded bool
	}{
		{"direct client, no header", "198.51.100.7:5000", nil, "198.51.100.7", false},
		{"direct client making up a header", "198.51.100.7:5000", []string{"203.0.113.9"}, "198.51.100.7", false},
		{"trusted proxy", "10.1.2.3:80", []string{"203.0.113.9"}, "203.0.113.9", true},
		{"trusted proxy, client prepends a lie", "10.1.2.3:80", []string{"6.6.6.6, 203.0.113.9"}, "203.0.113.9", true},
		{"two trusted hops", "10.1.2.3:80", []string{"203.0.113.9, 192.0.2.1"}, "203.0.113.9", true},
		{"header in two lines", "10.1.2.3:80", []string{"6.6.6.6", "203.0.113.9"}, "203.0.113.9", true},
		{"trusted proxy, no header", "10.1.2.3:80", nil, "10.1.2.3", false},
		{"malformed hop stops at the proxy", "10.1.2.3:80", []string{"203.0.113.9, bogus"}, "10.1.2.3", false},
		{"all hops trusted", "10.1.2.3:80", []string{"10.9.9.9"}, "10.9.9.9", true},
		{"ipv6 loopback proxy", "[::1]:80", []string{"2001:db8::5"}, "2001:db8::5", true},
		{"ipv4-mapped peer", "[::ffff:10.1.2.3]:80", []string{"203.0.113.9"}, "203.0.113.9", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			ip, fwd := r.Of(req)
			if ip.String() != tt.want || fwd != tt.forwarded {
				t.Fatalf("Of = %s %v, want %s %v", ip, fwd, tt.want, tt.forwarded)
			}
		})
	}
	var none Resolver
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.RemoteAddr = "127.0.0.1:1"
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	if ip, fwd := none.Of(req); ip.String() != "127.0.0.1" || fwd {
		t.Fatalf("zero Resolver trusted the header: %s %v", ip, fwd)
	}
}

func TestParseRefusesGarbage(t *testing.T) {
	for _, bad := range []string{"10.0.0.0/33", "example.com", "10.0.0"} {
		if _, err := Parse([]string{bad}); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

// TestHandler: what the handler passes on names the resolved client only.
func TestHandler(t *testing.T) {
	r, _ := Parse([]string{"10.0.0.0/8"})
	var got *http.Request
	h := r.Handler(http.HandlerFunc(func(_ http.ResponseWriter, req *http.Request) { got = req }))
	tests := []struct {
		remote, xff, host string
		wantAddr, wantXFF string
		wantHost          string
	}{
		{"198.51.100.7:5000", "203.0.113.9", "evil.example", "198.51.100.7:0", "", ""},
		{"10.1.2.3:80", "6.6.6.6, 203.0.113.9", "piano.example", "203.0.113.9:0", "", "piano.example"},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(http.MethodGet, "/v1/x", nil)
		req.RemoteAddr = tt.remote
		req.Header.Set("X-Forwarded-For", tt.xff)
		req.Header.Set("X-Forwarded-Host", tt.host)
		h.ServeHTTP(httptest.NewRecorder(), req)
		if got.RemoteAddr != tt.wantAddr || got.Header.Get("X-Forwarded-For") != tt.wantXFF || got.Header.Get("X-Forwarded-Host") != tt.wantHost {
			t.Errorf("from %s: RemoteAddr %s, X-Forwarded-For %q, X-Forwarded-Host %q", tt.remote, got.RemoteAddr, got.Header.Get("X-Forwarded-For"), got.Header.Get("X-Forwarded-Host"))
		}
		if req.Header.Get("X-Forwarded-For") != tt.xff {
			t.Error("the caller's request was changed")
		}
	}
}
