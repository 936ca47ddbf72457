package web

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed static
var static embed.FS

// Handler serves the embedded client: "/" is index.html, "/favicon.ico" the
// icon (favicon.svg), other paths are the files under static/ (unknown ones
// answer 404). Only GET and HEAD are
// allowed. Responses carry a Content-Security-Policy that permits scripts,
// styles and connections to this origin only, plus the page's WebSocket.
// Files are revalidated on every load (no-cache) so a deploy is picked up at
// once; they are small. Safe for concurrent use.
func Handler() http.Handler {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		// The directory is embedded at compile time; this cannot fail.
		panic("web: embedded static directory missing: " + err.Error())
	}
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Content-Security-Policy", csp(r))
		// FileServer redirects /index.html to /; serve the page directly
		// for both spellings.
		switch r.URL.Path {
		case "/", "/index.html":
			r = r.Clone(r.Context())
			r.URL.Path = "/"
		case "/favicon.ico": // asked for by browsers whatever the page links
			r = r.Clone(r.Context())
			r.URL.Path = "/favicon.svg"
		}
		files.ServeHTTP(w, r)
	})
}

// csp allows the WebSocket on the host the page was loaded from: 'self' in
// connect-src does not cover ws:// in every browser.
func csp(r *http.Request) string {
	host := r.Host
	if strings.ContainsAny(host, " ;'\"") {
		host = ""
	}
	connect := "'self'"
	if host != "" {
		connect += " ws://" + host + " wss://" + host
	}
	return "default-src 'self'; connect-src " + connect +
		"; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
}
