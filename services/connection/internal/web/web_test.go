package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pianorhythm/server/services/connection/internal/web"
)

func TestHandlerServesFiles(t *testing.T) {
	srv := httptest.NewServer(web.Handler())
	defer srv.Close()

	tests := []struct {
		path, wantType, wantBody string
	}{
		{"/", "text/html; charset=utf-8", `<script type="module" src="app.js">`},
		{"/index.html", "text/html; charset=utf-8", `id="keyboard"`},
		{"/app.js", "text/javascript; charset=utf-8", "new Connection("},
		{"/net.js", "text/javascript; charset=utf-8", "pianorhythm.v1.json"},
		// app.js imports these; each must be embedded and served as a script.
		{"/session.js", "text/javascript; charset=utf-8", "export function onDown("},
		{"/actions.js", "text/javascript; charset=utf-8", "export function request("},
		{"/handlers.js", "text/javascript; charset=utf-8", "export function onMessage("},
		{"/notes.js", "text/javascript; charset=utf-8", "export function localNoteOn("},
		{"/room-view.js", "text/javascript; charset=utf-8", "export function renderRoom("},
		{"/controls.js", "text/javascript; charset=utf-8", "export function bind("},
		{"/messages.js", "text/javascript; charset=utf-8", "export function joinRefusal("},
		{"/style.css", "text/css; charset=utf-8", ".keyboard"},
		// Browsers ask for /favicon.ico on every load, whatever the page links.
		{"/favicon.ico", "image/svg+xml", "<svg"},
		{"/favicon.svg", "image/svg+xml", "<svg"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res, err := http.Get(srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200", res.StatusCode)
			}
			if got := res.Header.Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type %q, want %q", got, tt.wantType)
			}
			if !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("body does not contain %q", tt.wantBody)
			}
			if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "ws://"+strings.TrimPrefix(srv.URL, "http://")) {
				t.Errorf("CSP %q does not allow the page's WebSocket", csp)
			}
		})
	}
}

func TestHandlerRefuses(t *testing.T) {
	srv := httptest.NewServer(web.Handler())
	defer srv.Close()

	res, err := http.Get(srv.URL + "/nope.js")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown file: status %d, want 404", res.StatusCode)
	}

	res, err = http.Post(srv.URL+"/", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d, want 405", res.StatusCode)
	}
}

// TestPageContract keeps the element ids browser tests and the edge's
// documentation rely on.
func TestPageContract(t *testing.T) {
	srv := httptest.NewServer(web.Handler())
	defer srv.Close()
	res, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	for _, id := range []string{"status", "room-name", "members", "chat-log", "chat-input", "room-list", "create-room", "keyboard", "keyboard-scroll", "keyboard-pan", "focus-hint", "friends-section", "quota", "reconnect-banner"} {
		if !strings.Contains(string(body), `id="`+id+`"`) {
			t.Errorf("index.html has no element #%s", id)
		}
	}
}
