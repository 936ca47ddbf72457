package gateway

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestHeaderMatcher(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"Authorization", "authorization", true},
		{"X-Pr-User-Id", "", false},
		{"x-pr-roles", "", false},
		{"X-PR-Guest", "", false},
		{"Content-Type", "grpcgateway-Content-Type", true},
		{"Grpc-Metadata-X-Pr-User-Id", "", false},
		{"Grpc-Metadata-Trace", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := HeaderMatcher(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("HeaderMatcher(%q) = %q %v", tt.in, got, ok)
			}
		})
	}
}

func TestReady(t *testing.T) {
	ok := Check{Name: "room", Check: func(context.Context) error { return nil }}
	down := Check{Name: "user", Check: func(context.Context) error { return errors.New("status NOT_SERVING") }}
	optionalDown := Check{Name: "analytics", Optional: true, Check: func(context.Context) error { return errors.New("status NOT_SERVING") }}
	tests := []struct {
		name   string
		checks []Check
		code   int
		body   string
	}{
		{"all serving", []Check{ok}, 200, `"ready":true`},
		{"one down", []Check{ok, down}, 503, `"notReady":{"user":"status NOT_SERVING"}`},
		{"an optional one down", []Check{ok, optionalDown}, 200, `"degraded":{"analytics":"status NOT_SERVING"},"ready":true`},
		{"both", []Check{down, optionalDown}, 503, `"degraded":{"analytics":"status NOT_SERVING"},"notReady":{"user":"status NOT_SERVING"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			Ready(tt.checks, time.Second).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			if rec.Code != tt.code || !strings.Contains(rec.Body.String(), tt.body) {
				t.Fatalf("%d %s", rec.Code, rec.Body.String())
			}
		})
	}
}
