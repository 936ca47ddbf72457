package browser_test

// A tiny W3C WebDriver client for chromedriver: just what the browser tests
// need (sessions, navigation, elements, input actions, scripts,
// screenshots), over net/http and JSON, so no browser-automation dependency
// is pulled in. It is the repository's only WebDriver client.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

const webElementKey = "element-6066-11e4-a52e-4f735466cecf"

// findBrowser returns the chromium and chromedriver binaries (CHROME_BIN and
// CHROMEDRIVER override the search). Missing binaries skip the test, except
// in CI (CI set), which installs them, where they fail it.
func findBrowser(t *testing.T) (chrome, driver string) {
	t.Helper()
	look := func(env string, names ...string) string {
		if p := os.Getenv(env); p != "" {
			return p
		}
		for _, n := range names {
			if p, err := exec.LookPath(n); err == nil {
				return p
			}
		}
		return ""
	}
	chrome = look("CHROME_BIN", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
	driver = look("CHROMEDRIVER", "chromedriver")
	if chrome == "" || driver == "" {
		msg := "chromium and chromedriver are needed for the browser test (apt-get install chromium chromium-driver)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return chrome, driver
}

type webDriver struct {
	base   string
	chrome string
	client *http.Client
}

// startDriver runs chromedriver on a free loopback port until the test ends.
func startDriver(t *testing.T) *webDriver {
	t.Helper()
	chrome, driverBin := findBrowser(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()

	cmd := exec.Command(driverBin, fmt.Sprintf("--port=%d", port), "--allowed-ips=127.0.0.1")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatalf("start chromedriver: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	d := &webDriver{base: fmt.Sprintf("http://127.0.0.1:%d", port), chrome: chrome, client: &http.Client{Timeout: 60 * time.Second}}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var st struct {
			Ready bool `json:"ready"`
		}
		if err := d.call(http.MethodGet, "/status", nil, &st); err == nil && st.Ready {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatal("chromedriver did not become ready")
		}
		time.Sleep(50 * time.Millisecond) // polling an external process: no clock to inject
	}
}

// call does one WebDriver command; out receives the "value" member.
func (d *webDriver) call(method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, d.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := d.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	var env struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("%s %s: decode %q: %w", method, path, raw, err)
	}
	if res.StatusCode >= 300 {
		var e struct {
			Error   string `json:"error"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(env.Value, &e)
		return fmt.Errorf("%s %s: %s: %s", method, path, e.Error, firstLine(e.Message))
	}
	if out != nil {
		return json.Unmarshal(env.Value, out)
	}
	return nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

type session struct {
	t  *testing.T
	d  *webDriver
	id string
}

// newSession opens a headless Chromium with a fresh profile (so each
// session is a different guest) and closes it when the test ends.
func (d *webDriver) newSession(t *testing.T) *session {
	t.Helper()
	return d.newSessionWith(t, true)
}

// newSessionWith opens a session; autoplay lets audio start without a
// gesture, as the two-window scenarios need (the remote notes sound at
// once); without it the browser's default policy applies, as for a person.
func (d *webDriver) newSessionWith(t *testing.T, autoplay bool) *session {
	t.Helper()
	args := []string{
		"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--window-size=1400,900",
		"--user-data-dir=" + t.TempDir(),
	}
	if autoplay {
		args = append(args, "--autoplay-policy=no-user-gesture-required")
	}
	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName":        "chrome",
		"goog:chromeOptions": map[string]any{"binary": d.chrome, "args": args},
	}}}
	var out struct {
		SessionID string `json:"sessionId"`
	}
	if err := d.call(http.MethodPost, "/session", caps, &out); err != nil {
		t.Fatalf("new browser session: %v", err)
	}
	s := &session{t: t, d: d, id: out.SessionID}
	t.Cleanup(func() { _ = d.call(http.MethodDelete, "/session/"+s.id, nil, nil) })
	return s
}

// in returns s reporting to t: a subtest must fail itself, not its parent.
func (s *session) in(t *testing.T) *session {
	c := *s
	c.t = t
	return &c
}

func (s *session) cmd(method, path string, body, out any) {
	s.t.Helper()
	if err := s.d.call(method, "/session/"+s.id+path, body, out); err != nil {
		s.t.Fatal(err)
	}
}

func (s *session) navigate(url string) {
	s.t.Helper()
	s.cmd(http.MethodPost, "/url", map[string]string{"url": url}, nil)
}

// find returns the WebDriver id of the first element matching css.
func (s *session) find(css string) string {
	s.t.Helper()
	var el map[string]string
	s.cmd(http.MethodPost, "/element", map[string]string{"using": "css selector", "value": css}, &el)
	return el[webElementKey]
}

func (s *session) click(css string) {
	s.t.Helper()
	s.onElement(css, "/click", map[string]any{})
}

// typeInto sends keystrokes to an element; "\uE007" is Enter.
func (s *session) typeInto(css, text string) {
	s.t.Helper()
	s.onElement(css, "/value", map[string]string{"text": text})
}

// onElement finds css and runs an element command on it. The page may
// re-render the element between the two steps (a room list refreshed by a
// reply from the server): then the element is looked up again, for up to
// waitShort.
func (s *session) onElement(css, command string, body any) {
	s.t.Helper()
	deadline := time.Now().Add(waitShort)
	for {
		var el map[string]string
		err := s.d.call(http.MethodPost, "/session/"+s.id+"/element", map[string]string{"using": "css selector", "value": css}, &el)
		if err == nil {
			err = s.d.call(http.MethodPost, "/session/"+s.id+"/element/"+el[webElementKey]+command, body, nil)
		}
		if err == nil {
			return
		}
		if !retryable(err) || time.Now().After(deadline) {
			s.t.Fatalf("%s on %s: %v", command, css, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// retryable reports the WebDriver errors of a page still changing.
func retryable(err error) bool {
	for _, transient := range []string{"stale element reference", "no such element", "element click intercepted", "element not interactable"} {
		if strings.Contains(err.Error(), transient) {
			return true
		}
	}
	return false
}

// exec runs script (a function body; arguments[i] are args) and decodes
// its return value into out, when out is not nil.
func (s *session) exec(out any, script string, args ...any) {
	s.t.Helper()
	if args == nil {
		args = []any{}
	}
	s.cmd(http.MethodPost, "/execute/sync", map[string]any{"script": script, "args": args}, out)
}

// execAsync runs an async script: its last argument is the callback to
// call with the result, decoded into out when out is not nil.
func (s *session) execAsync(out any, script string, args ...any) {
	s.t.Helper()
	if args == nil {
		args = []any{}
	}
	s.cmd(http.MethodPost, "/execute/async", map[string]any{"script": script, "args": args}, out)
}

// keyDown and keyUp send trusted key events through the Actions API.
func (s *session) keyDown(key string) { s.keyAction("keyDown", key) }
func (s *session) keyUp(key string)   { s.keyAction("keyUp", key) }

func (s *session) keyAction(kind, key string) {
	s.t.Helper()
	s.cmd(http.MethodPost, "/actions", map[string]any{"actions": []any{map[string]any{
		"type": "key", "id": "keyboard", "actions": []any{map[string]string{"type": kind, "value": key}},
	}}}, nil)
}

// mouseDown moves the mouse over the element matching css and presses the
// left button (held until mouseUp).
func (s *session) mouseDown(css string) {
	s.t.Helper()
	el := s.find(css)
	s.cmd(http.MethodPost, "/actions", map[string]any{"actions": []any{map[string]any{
		"type": "pointer", "id": "mouse", "parameters": map[string]string{"pointerType": "mouse"},
		"actions": []any{
			map[string]any{"type": "pointerMove", "duration": 0, "origin": map[string]string{webElementKey: el}, "x": 0, "y": 20},
			map[string]any{"type": "pointerDown", "button": 0},
		},
	}}}, nil)
}

func (s *session) mouseUp() {
	s.t.Helper()
	s.cmd(http.MethodPost, "/actions", map[string]any{"actions": []any{map[string]any{
		"type": "pointer", "id": "mouse", "parameters": map[string]string{"pointerType": "mouse"},
		"actions": []any{map[string]any{"type": "pointerUp", "button": 0}},
	}}}, nil)
}

func (s *session) screenshot() []byte {
	s.t.Helper()
	var b64 string
	s.cmd(http.MethodGet, "/screenshot", nil, &b64)
	png, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		s.t.Fatal(err)
	}
	return png
}

// waitJS polls a script returning a boolean until it is true; on timeout
// the test fails with what, and the page's status for context.
func (s *session) waitJS(what string, timeout time.Duration, script string, args ...any) {
	s.t.Helper()
	if !s.poll(timeout, script, args...) {
		var status string
		s.exec(&status, `return document.querySelector('#status')?.textContent + ' | room=' + document.querySelector('#room-name')?.textContent`)
		saveScreenshot(s.t, s, "failed-"+fileName(what)+".png")
		s.t.Fatalf("timed out waiting for %s (page: %s)", what, status)
	}
}

// poll reports whether a script returning a boolean became true within
// timeout.
func (s *session) poll(timeout time.Duration, script string, args ...any) bool {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var ok bool
		s.exec(&ok, script, args...)
		if ok {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond) // polling a browser: no clock to inject
	}
}

// text returns the trimmed textContent of the element matching css.
func (s *session) text(css string) string {
	s.t.Helper()
	var out string
	s.exec(&out, `const e = document.querySelector(arguments[0]); return e ? e.textContent.trim() : ''`, css)
	return out
}

// fileName turns a description into a file name: lower-case letters,
// digits and dashes.
func fileName(what string) string {
	return strings.Trim(strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		case r == '\'':
			return -1
		}
		return '-'
	}, what), "-")
}
