package main

import (
	"strings"
	"testing"
)

// TestCalled: only findings at symbol level (code that calls the
// vulnerable function) count, once each, split by where they are.
func TestCalled(t *testing.T) {
	in := `{"config":{"scanner_name":"govulncheck"}}
{"finding":{"osv":"GO-1","fixed_version":"v1.1.1","trace":[{"module":"example.com/dep","version":"v1.1.0"}]}}
{"finding":{"osv":"GO-2","fixed_version":"v1.26.9","trace":[{"module":"stdlib","version":"v1.26.8","package":"net/http","function":"Serve"},{"module":"example.com/me"}]}}
{"finding":{"osv":"GO-2","fixed_version":"v1.26.9","trace":[{"module":"stdlib","version":"v1.26.8","package":"net/http","function":"Get"}]}}
{"finding":{"osv":"GO-3","fixed_version":"v5.9.2","trace":[{"module":"github.com/jackc/pgx/v5","version":"v5.7.5","package":"github.com/jackc/pgx/v5/internal/sanitize","function":"SanitizeSQL"}]}}
`
	mods, std, err := called(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(mods) != 1 || !strings.HasPrefix(mods[0], "GO-3 in github.com/jackc/pgx/v5@v5.7.5") || !strings.HasSuffix(mods[0], "fixed in v5.9.2") {
		t.Fatalf("modules = %q", mods)
	}
	if len(std) != 1 || !strings.HasPrefix(std[0], "GO-2 in stdlib@v1.26.8 (net/http.Serve)") {
		t.Fatalf("stdlib = %q", std)
	}
	if _, _, err := called(strings.NewReader("{not json")); err == nil {
		t.Fatal("garbage was read")
	}
}
