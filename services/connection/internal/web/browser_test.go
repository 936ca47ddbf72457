package web_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const waitLong = 30 * time.Second

// artifactPath is where screenshots go: $ARTIFACTS_DIR, default ./artifacts.
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

// TestBrowserAgainstFakeServer drives two real headless Chromium windows
// against the page and a fake edge: both land in the lobby, a key pressed
// in one lights in the other, chat reaches both, a password room prompts
// for its password, and a dropped connection shows the banner and comes
// back as the same guest in the same room.
func TestBrowserAgainstFakeServer(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	wd := startDriver(t)
	srv := startFakeServer(t)

	a := wd.newSession(t)
	b := wd.newSession(t)
	for _, s := range []*session{a, b} {
		s.navigate(srv.URL)
		s.waitJS("status online", waitLong, `return document.querySelector('#status').dataset.state === 'online'`)
	}
	a.waitJS("two members", waitLong, `return document.querySelectorAll('#members li[data-user-id]').length === 2`)
	b.waitJS("two members", waitLong, `return document.querySelectorAll('#members li[data-user-id]').length === 2`)
	if got := a.text("#room-name"); got != "Lobby" {
		t.Fatalf("room name %q, want Lobby", got)
	}
	var aID string
	a.exec(&aID, `return window.pianorhythm.state.me.id`)

	const lit = `const k = document.querySelector('#keyboard [data-note="' + arguments[0] + '"]'); return !!k && k.classList.contains('active') === arguments[1]`

	t.Run("computer key lights the key for both", func(t *testing.T) {
		a.keyDown("q") // Q is C4 (60) in the default octave
		a.waitJS("own key lit", 5*time.Second, lit, 60, true)
		b.waitJS("remote key lit", 5*time.Second, lit, 60, true)
		var by string
		b.exec(&by, `return document.querySelector('[data-note="60"]').dataset.by`)
		if by != aID {
			t.Errorf("key 60 held by %q on the other page, want %q", by, aID)
		}
		// Autoplay is allowed in these sessions, so the remote note sounds too.
		b.waitJS("remote voice", 5*time.Second, `const s = window.pianorhythm.synth; return s.running && [...s.voices.keys()].includes(arguments[0] + ':60')`, aID)
		a.keyUp("q")
		b.waitJS("remote key released", 5*time.Second, lit, 60, false)
	})

	t.Run("mouse press lights the key for both", func(t *testing.T) {
		b.mouseDown(`#keyboard [data-note="64"]`)
		a.waitJS("remote key lit", 5*time.Second, lit, 64, true)
		b.mouseUp()
		a.waitJS("remote key released", 5*time.Second, lit, 64, false)
	})

	t.Run("chat reaches both", func(t *testing.T) {
		a.click("#chat-input")
		a.typeInto("#chat-input", "hello from A\uE007")
		const has = `return [...document.querySelectorAll('#chat-log .chat-line')].some(l => l.textContent.includes(arguments[0]))`
		a.waitJS("own chat line", 5*time.Second, has, "hello from A")
		b.waitJS("remote chat line", 5*time.Second, has, "hello from A")
	})

	// Hold a key on A so the screenshot of B shows a remote press. Escape
	// leaves the chat input, so the keys play again.
	a.keyDown("\uE00C")
	a.keyUp("\uE00C")
	a.keyDown("e")
	b.waitJS("remote key lit", 5*time.Second, lit, 64, true)
	if err := os.WriteFile(artifactPath(t, "web-fake-two-players.png"), b.screenshot(), 0o644); err != nil {
		t.Fatal(err)
	}
	a.keyUp("e")

	t.Run("password room", func(t *testing.T) {
		a.typeInto(`#create-room input[name=name]`, "Jazz Club")
		a.typeInto(`#create-room input[name=password]`, "secret")
		a.click(`#create-room button[type=submit]`)
		a.waitJS("in the new room", waitLong, `return document.querySelector('#room-name').textContent === 'Jazz Club'`)
		if crown := a.text(`#members li[data-user-id="` + aID + `"] .crown`); crown == "" {
			t.Error("the creator has no crown")
		}
		b.click("#refresh-rooms")
		b.waitJS("room listed", waitLong, `return !!document.querySelector('#room-list li[data-room-id="jazz-club"]')`)
		b.click(`#room-list li[data-room-id="jazz-club"]`)
		b.waitJS("password prompt", waitLong, `return document.querySelector('#password-dialog').open`)
		b.typeInto(`#password-dialog input[name=password]`, "secret")
		b.click(`#password-dialog button[value=ok]`)
		b.waitJS("joined with password", waitLong, `return document.querySelector('#room-name').textContent === 'Jazz Club' && document.querySelectorAll('#members li').length === 2`)
		a.waitJS("joiner listed", waitLong, `return document.querySelectorAll('#members li').length === 2`)
		if err := os.WriteFile(artifactPath(t, "web-fake-owner-room.png"), a.screenshot(), 0o644); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("profile name reaches the other member list", func(t *testing.T) {
		var bID string
		b.exec(&bID, `return window.pianorhythm.state.me.id`)
		b.click("#profile-btn")
		b.exec(nil, `document.querySelector('#profile-dialog input[name=name]').value = ''`)
		b.typeInto(`#profile-dialog input[name=name]`, "Bea")
		b.click(`#profile-dialog button[value=ok]`)
		b.waitJS("own name", waitLong, `return document.querySelector('#me-name').textContent === 'Bea'`)
		a.waitJS("renamed member", waitLong, `return document.querySelector('#members li[data-user-id="' + arguments[0] + '"] .name')?.textContent === 'Bea'`, bID)
	})

	for name, s := range map[string]*session{"A": a, "B": b} {
		var errs []string
		s.exec(&errs, `return window.pianorhythm.errors`)
		if len(errs) > 0 {
			t.Errorf("page %s had script errors: %q", name, errs)
		}
	}

	t.Run("reconnect after a drop", func(t *testing.T) {
		var before string
		b.exec(&before, `return window.pianorhythm.state.me.id`)
		srv.dropAll()
		b.waitJS("banner shown", waitLong, `return !document.querySelector('#reconnect-banner').hidden`)
		if txt := b.text("#reconnect-banner"); !strings.Contains(txt, "Reconnecting") {
			t.Errorf("banner says %q", txt)
		}
		b.waitJS("banner gone and back online", waitLong, `return document.querySelector('#reconnect-banner').hidden && document.querySelector('#status').dataset.state === 'online'`)
		var after, room string
		b.exec(&after, `return window.pianorhythm.state.me.id`)
		b.exec(&room, `return window.pianorhythm.state.room.id`)
		if after != before {
			t.Errorf("reconnected as %q, want the same guest %q", after, before)
		}
		if room != "jazz-club" {
			t.Errorf("rejoined %q, want jazz-club", room)
		}
	})

	t.Run("narrow screen", func(t *testing.T) {
		b.cmd("POST", "/window/rect", map[string]int{"width": 430, "height": 900}, nil)
		b.waitJS("keyboard visible", waitLong, `return document.querySelector('#keyboard').getBoundingClientRect().width <= 430`)
		if err := os.WriteFile(artifactPath(t, "web-fake-narrow.png"), b.screenshot(), 0o644); err != nil {
			t.Fatal(err)
		}
	})
}
