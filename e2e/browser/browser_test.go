// Package browser_test runs the web client in real headless Chromium
// windows against the whole system started in-process: the page, the
// WebSocket edge, the room, user and state services and the embedded
// stores, end to end.
//
// It needs chromium and chromedriver (Debian: apt-get install chromium
// chromium-driver); without them it skips, unless CI is set, where it
// fails. Screenshots go to $ARTIFACTS_DIR (default ./artifacts).
package browser_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pianorhythm/server/internal/allinone"
)

const waitLong = 45 * time.Second

func startSystem(t *testing.T) *allinone.System {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	anyPort := "127.0.0.1:0"
	stamp := strconv.FormatInt(time.Now().UnixNano(), 36)
	sys, err := allinone.Start(ctx, allinone.Config{
		HTTPAddr: anyPort, StateAddr: anyPort, UserAddr: anyPort, RoomAddr: anyPort,
		ConnectionAddr: anyPort, AnalyticsAddr: anyPort, MonitorAddr: anyPort,
		RedisURL:  os.Getenv("REDIS_URL"),
		MongoURI:  os.Getenv("MONGODB_URI"),
		Database:  "browser_test_" + stamp,
		DataDir:   t.TempDir(),
		KeyPrefix: "t:browser:" + stamp + ":",
	})
	if err != nil {
		t.Fatalf("start the system: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := sys.Close(ctx); err != nil {
			t.Errorf("close the system: %v", err)
		}
	})
	return sys
}

func artifactPath(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("ARTIFACTS_DIR")
	if dir == "" {
		dir = "artifacts"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, name)
}

// TestTwoPlayersShareARoom: two browsers open the page, land in the lobby
// together, hear (see) each other's keys and read each other's chat.
func TestTwoPlayersShareARoom(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	wd := startDriver(t) // first: skips or fails before the system starts
	sys := startSystem(t)

	res, err := http.Get(sys.URL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(page), `id="keyboard"`) {
		t.Fatalf("GET / does not serve the web client (connection/internal/web.Handler): %.200q", page)
	}

	a := wd.newSession(t)
	b := wd.newSession(t)
	ids := map[*session]string{}
	for _, s := range []*session{a, b} {
		s.navigate(sys.URL())
		s.waitJS("the page to be online in a room", waitLong,
			`return document.querySelector('#status')?.dataset.state === 'online' && !!window.pianorhythm?.state.room`)
		var id string
		s.exec(&id, `return window.pianorhythm.state.me.id`)
		ids[s] = id
	}
	if ids[a] == ids[b] {
		t.Fatalf("both windows are user %q; want two guests", ids[a])
	}
	var roomA, roomB string
	a.exec(&roomA, `return window.pianorhythm.state.room.id`)
	b.exec(&roomB, `return window.pianorhythm.state.room.id`)
	if roomA != roomB {
		t.Fatalf("the windows landed in %q and %q; want one room", roomA, roomB)
	}
	const hasMember = `return !!document.querySelector('#members li[data-user-id="' + arguments[0] + '"]')`
	a.waitJS("B in A's member list", waitLong, hasMember, ids[b])
	b.waitJS("A in B's member list", waitLong, hasMember, ids[a])

	const lit = `const k = document.querySelector('#keyboard [data-note="' + arguments[0] + '"]'); return !!k && k.classList.contains('active') === arguments[1]`

	t.Run("a key pressed in one window lights in the other", func(t *testing.T) {
		a.keyDown("q") // Q is C4 (60) in the default octave
		a.waitJS("own key lit", 10*time.Second, lit, 60, true)
		b.waitJS("remote key lit", 10*time.Second, lit, 60, true)
		var by string
		b.exec(&by, `return document.querySelector('[data-note="60"]').dataset.by`)
		if by != ids[a] {
			t.Errorf("key 60 is held by %q in B, want A %q", by, ids[a])
		}
		a.keyUp("q")
		b.waitJS("remote key released", 10*time.Second, lit, 60, false)
	})

	t.Run("a mouse press lights the key in the other window", func(t *testing.T) {
		b.mouseDown(`#keyboard [data-note="64"]`)
		a.waitJS("remote key lit", 10*time.Second, lit, 64, true)
		b.mouseUp()
		a.waitJS("remote key released", 10*time.Second, lit, 64, false)
	})

	t.Run("chat reaches both windows", func(t *testing.T) {
		a.click("#chat-input")
		a.typeInto("#chat-input", "hello from the browser test\uE007")
		const has = `return [...document.querySelectorAll('#chat-log .chat-line')].some(l => l.textContent.includes(arguments[0]))`
		a.waitJS("own chat line", 10*time.Second, has, "hello from the browser test")
		b.waitJS("remote chat line", 10*time.Second, has, "hello from the browser test")
		a.keyDown("\uE00C") // Escape: leave the chat input so keys play again
		a.keyUp("\uE00C")
	})

	// B's view while A holds E4: a remote key lit in A's color.
	a.keyDown("e")
	b.waitJS("remote key lit", 10*time.Second, lit, 64, true)
	if err := os.WriteFile(artifactPath(t, "browser-two-players.png"), b.screenshot(), 0o644); err != nil {
		t.Fatal(err)
	}
	a.keyUp("e")

	for name, s := range map[string]*session{"A": a, "B": b} {
		var errs []string
		s.exec(&errs, `return window.pianorhythm.errors`)
		if len(errs) > 0 {
			t.Errorf("window %s had script errors: %q", name, errs)
		}
	}
}
