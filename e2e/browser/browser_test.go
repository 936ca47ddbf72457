// Package browser_test runs the web client in real headless Chromium
// windows against the whole system started in-process: the page, the
// WebSocket edge, the room, user and state services and the embedded
// stores, end to end. It is the only browser suite of the repository.
//
// Besides the main paths it walks what a person meets (issue 17): where
// the keys go, the first note heard through the page's audio tap, the
// latency from a key press to the other window (printed, and written to
// $ARTIFACTS_DIR/latency.txt), toasts in words, friends for members only,
// 88 keys on a 390 px screen and by touch, and the way back after a server
// restart and a data reset.
//
// It needs chromium and chromedriver (Debian: apt-get install chromium
// chromium-driver); without them it skips, unless CI is set, where it
// fails. Screenshots go to $ARTIFACTS_DIR (default ./artifacts).
package browser_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/internal/allinone"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/store/storetest"
)

const (
	waitLong  = 45 * time.Second // first page load: the system warms up
	waitShort = 10 * time.Second // one message through the system
)

// Scripts polled by the scenarios.
const (
	online    = `return document.querySelector('#status')?.dataset.state === 'online' && !!window.pianorhythm?.state.room`
	hasMember = `return !!document.querySelector('#members li[data-user-id="' + arguments[0] + '"]')`
	lit       = `const k = document.querySelector('#keyboard [data-note="' + arguments[0] + '"]'); return !!k && k.classList.contains('active') === arguments[1]`
	hasChat   = `return [...document.querySelectorAll('#chat-log .chat-line')].some(l => l.textContent.includes(arguments[0]))`
	named     = `return document.querySelector('#members li[data-user-id="' + arguments[0] + '"] .name')?.textContent === arguments[1]`
	inRoom    = `return window.pianorhythm.state.room?.id === arguments[0] && document.querySelector('#room-name').textContent === arguments[1]`
)

// systemConfig is the all-in-one of one test: every address on a free
// loopback port, embedded stores under a fresh DataDir (or the servers of
// REDIS_URL and MONGODB_URI), Redis keys under a prefix of the test's own
// that is deleted when the test ends (storetest.Prefix).
func systemConfig(t *testing.T) allinone.Config {
	anyPort := "127.0.0.1:0"
	stamp := strconv.FormatInt(time.Now().UnixNano(), 36)
	return allinone.Config{
		HTTPAddr: anyPort, StateAddr: anyPort, UserAddr: anyPort, RoomAddr: anyPort,
		ConnectionAddr: anyPort, AnalyticsAddr: anyPort, MonitorAddr: anyPort,
		RedisURL:  os.Getenv("REDIS_URL"),
		MongoURI:  os.Getenv("MONGODB_URI"),
		Database:  "browser_test_" + stamp,
		DataDir:   t.TempDir(),
		KeyPrefix: storetest.Prefix(t) + "browser:", // before Start: deleted after Close
	}
}

// startSystem starts the all-in-one of cfg and closes it when the test
// ends (or earlier, by stopSystem).
func startSystem(t *testing.T, cfg allinone.Config) *allinone.System {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sys, err := allinone.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("start the system: %v", err)
	}
	t.Cleanup(func() { stopSystem(t, sys) })
	return sys
}

// stopSystem closes sys; closing it again does nothing.
func stopSystem(t *testing.T, sys *allinone.System) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := sys.Close(ctx); err != nil {
		t.Errorf("close the system: %v", err)
	}
}

// saveScreenshot writes s's screenshot to $ARTIFACTS_DIR (default
// ./artifacts) as name.
func saveScreenshot(t *testing.T, s *session, name string) {
	t.Helper()
	dir := os.Getenv("ARTIFACTS_DIR")
	if dir == "" {
		dir = "artifacts"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), s.screenshot(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// dropConnections closes every connection of user server-side, as an admin
// would with the ConnectionService CloseConnection RPC.
func dropConnections(t *testing.T, sys *allinone.System, user string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitShort)
	defer cancel()
	admin := auth.Identity{UserID: "browser-test-admin", DisplayName: "Browser test", Roles: []pb.Role{pb.Role_ADMIN}}
	res, err := pb.NewConnectionServiceClient(sys.Conn("connection")).CloseConnection(
		auth.OutgoingContext(ctx, admin), &pb.CloseConnectionRequest{UserId: user, Reason: "browser test drop"})
	if err != nil {
		t.Fatalf("close the connections of %s: %v", user, err)
	}
	if res.GetClosed() == 0 {
		t.Fatalf("no connection of %s was open", user)
	}
}

// TestBrowser drives two browser windows, A and B, through the client's
// main paths against the real system. The scenarios run in order and share
// the windows, as one visit would: each starts where the previous ended.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	wd := startDriver(t) // first: skips or fails before the system starts
	cfg := systemConfig(t)
	sys := startSystem(t, cfg)

	res, err := http.Get(sys.URL())
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
	var idA, idB string
	for _, w := range []struct {
		s  *session
		id *string
	}{{a, &idA}, {b, &idB}} {
		w.s.navigate(sys.URL())
		w.s.waitJS("the page to be online in a room", waitLong, online)
		w.s.exec(w.id, `return window.pianorhythm.state.me.id`)
	}
	if idA == "" || idA == idB {
		t.Fatalf("the windows are users %q and %q; want two guests", idA, idB)
	}

	t.Run("both land in the lobby", func(t *testing.T) {
		a, b := a.in(t), b.in(t)
		var roomA, roomB string
		a.exec(&roomA, `return window.pianorhythm.state.room.id`)
		b.exec(&roomB, `return window.pianorhythm.state.room.id`)
		if roomA != "lobby" || roomB != "lobby" {
			t.Fatalf("the windows landed in %q and %q; want the lobby", roomA, roomB)
		}
		a.waitJS("B in A's member list", waitShort, hasMember, idB)
		b.waitJS("A in B's member list", waitShort, hasMember, idA)
		guestSeesNoFriends(t, a)
	})

	t.Run("a key pressed in one window lights and sounds in the other", func(t *testing.T) {
		a, b := a.in(t), b.in(t)
		var labels []string
		a.exec(&labels, `return [...document.querySelectorAll('#keyboard [data-note="60"] .label b')].map(b => b.textContent)`)
		if strings.Join(labels, " ") != ", Q" {
			t.Errorf("C4 is labeled %q, want both of its keys: , and Q", labels)
		}
		a.keyDown("q") // Q is C4 (60) in the default octave
		a.waitJS("own key lit", waitShort, lit, 60, true)
		b.waitJS("remote key lit", waitShort, lit, 60, true)
		var by string
		b.exec(&by, `return document.querySelector('#keyboard [data-note="60"]').dataset.by`)
		if by != idA {
			t.Errorf("key 60 is held by %q in B, want A %q", by, idA)
		}
		// Autoplay is allowed in these sessions, so the remote note sounds too.
		b.waitJS("remote voice", waitShort, `const s = window.pianorhythm.synth; return s.running && [...s.voices.keys()].includes(arguments[0] + ':60')`, idA)
		a.keyUp("q")
		b.waitJS("remote key released", waitShort, lit, 60, false)
	})

	// Key press to the other window: the figure the product promises in
	// milliseconds. Printed and kept as an artifact (latency.txt).
	t.Run("latency from a key press to the other window", func(t *testing.T) {
		a, b := a.in(t), b.in(t)
		l := measureLatency(t, a, b, "q", 60, 40)
		t.Log(l.String())
		fmt.Println("LATENCY:", l.String())
		writeArtifact(t, "latency.txt", l.String()+"\n")
	})

	t.Run("notes go out at once and keep each sender's order", func(t *testing.T) {
		notePathUnits(t, a.in(t))
	})

	t.Run("a click on the piano takes the keys back from a text field", func(t *testing.T) {
		focusReturnsToPiano(t, a.in(t), b.in(t))
	})

	t.Run("a mouse press lights the key in the other window", func(t *testing.T) {
		a, b := a.in(t), b.in(t)
		b.mouseDown(`#keyboard [data-note="64"]`)
		a.waitJS("remote key lit", waitShort, lit, 64, true)
		b.mouseUp()
		a.waitJS("remote key released", waitShort, lit, 64, false)
	})

	t.Run("chat reaches both windows", func(t *testing.T) {
		a, b := a.in(t), b.in(t)
		a.click("#chat-input")
		a.typeInto("#chat-input", "hello from A\uE007")
		a.waitJS("own chat line", waitShort, hasChat, "hello from A")
		b.waitJS("remote chat line", waitShort, hasChat, "hello from A")
		b.click("#chat-input")
		b.typeInto("#chat-input", "hello back from B\uE007")
		a.waitJS("reply in A", waitShort, hasChat, "hello back from B")
		for _, s := range []*session{a, b} { // Escape leaves the input, so keys play again
			s.keyDown("\uE00C")
			s.keyUp("\uE00C")
		}
	})

	// B's view while A holds E4: a remote key lit in A's color.
	a.keyDown("e")
	b.waitJS("remote key lit", waitShort, lit, 64, true)
	saveScreenshot(t, b, "browser-two-players.png")
	a.keyUp("e")
	b.waitJS("remote key released", waitShort, lit, 64, false)

	var roomID string
	t.Run("a password room prompts for its password", func(t *testing.T) {
		a, b := a.in(t), b.in(t)
		a.typeInto(`#create-room input[name=name]`, "Jazz Club")
		a.typeInto(`#create-room input[name=password]`, "secret")
		a.click(`#create-room button[type=submit]`)
		a.waitJS("A in the new room", waitShort, `return document.querySelector('#room-name').textContent === 'Jazz Club'`)
		a.exec(&roomID, `return window.pianorhythm.state.room.id`)
		if crown := a.text(`#members li[data-user-id="` + idA + `"] .crown`); crown == "" {
			t.Error("the creator has no crown")
		}
		b.waitJS("A gone from the lobby", waitShort, `return !document.querySelector('#members li[data-user-id="' + arguments[0] + '"]')`, idA)

		// Listed for B, marked as protected; a click asks for the password.
		room := `#room-list li[data-room-id="` + roomID + `"]`
		b.waitJS("the room listed", waitShort, `document.querySelector('#refresh-rooms').click(); return !!document.querySelector(arguments[0])`, room)
		if tags := b.text(room); !strings.Contains(tags, "password") {
			t.Errorf("the room list entry %q does not say it has a password", tags)
		}
		b.click(room)
		b.waitJS("password prompt", waitShort, `return document.querySelector('#password-dialog').open`)
		if got := b.text("#password-dialog .dlg-room"); got != "Jazz Club" {
			t.Errorf("the password prompt names the room %q, want its name Jazz Club", got)
		}
		b.typeInto(`#password-dialog input[name=password]`, "wrong")
		b.click(`#password-dialog button[value=ok]`)
		b.waitJS("the prompt again, saying the password was wrong", waitShort, `const d = document.querySelector('#password-dialog'); return d.open && !d.querySelector('.dlg-error').hidden`)
		b.typeInto(`#password-dialog input[name=password]`, "secret")
		b.click(`#password-dialog button[value=ok]`)
		b.waitJS("B joined with the password", waitShort, inRoom, roomID, "Jazz Club")
		if b.poll(0, hasToast, "assword") {
			t.Error("a toast about the password still shows after the right one got in")
		}
		b.waitJS("both in B's member list", waitShort, `return document.querySelectorAll('#members li[data-user-id]').length === 2`)
		a.waitJS("B in A's member list", waitShort, hasMember, idB)
		a.waitJS("A's room list counting B", waitShort, `return document.querySelector(arguments[0] + ' .count')?.textContent.startsWith('2/')`, room)
		// The rows with the most tags still show the longest name the user
		// service generates for guests.
		var cut []string
		a.exec(&cut, `const longest = 'Golden Nocturne 8888', cut = [];
			for (const n of document.querySelectorAll('#members li .name')) {
				const was = n.textContent;
				n.textContent = longest;
				if (n.scrollWidth > n.clientWidth) cut.push(n.parentElement.textContent);
				n.textContent = was;
			}
			return cut`)
		if len(cut) > 0 {
			t.Errorf("a guest name as long as the server generates is cut off in the member rows %q", cut)
		}
		saveScreenshot(t, a, "browser-owner-room.png")
	})
	if roomID == "" {
		t.Fatal("no password room: the remaining scenarios need it")
	}

	t.Run("a profile name reaches the other member list", func(t *testing.T) {
		a, b := a.in(t), b.in(t)
		b.click("#profile-btn")
		b.waitJS("profile dialog", waitShort, `return document.querySelector('#profile-dialog').open`)
		b.exec(nil, `document.querySelector('#profile-dialog input[name=name]').value = ''`)
		b.typeInto(`#profile-dialog input[name=name]`, "Bea")
		b.click(`#profile-dialog button[value=ok]`)
		b.waitJS("own name", waitShort, `return document.querySelector('#me-name').textContent === 'Bea'`)
		a.waitJS("renamed member", waitShort, named, idB, "Bea")
	})

	t.Run("the owner restricts the chat and renames the room", func(t *testing.T) {
		a, b := a.in(t), b.in(t)
		if !b.poll(0, `return document.querySelector('#room-settings-btn').hidden`) {
			t.Error("B, neither owner nor staff, is offered the room settings")
		}
		// Guests are not staff: the server would refuse their deletes.
		var del bool
		a.exec(&del, `return document.querySelector('#chat-log').classList.contains('moderating')`)
		if del {
			t.Error("the owner, not staff, is offered to delete chat messages")
		}

		changeSettings(t, a, "Jazz Club (quiet)", true)
		saveScreenshot(t, a, "browser-room-settings.png")
		a.click(`#room-settings-dialog button[value=ok]`)
		a.waitJS("the dialog closed on the update", waitShort, `return !document.querySelector('#room-settings-dialog').open && document.querySelector('#room-name').textContent === arguments[0]`, "Jazz Club (quiet)")

		b.waitJS("the new name in B", waitShort, inRoom, roomID, "Jazz Club (quiet)")
		b.waitJS("B's chat input disabled", waitShort, `const i = document.querySelector('#chat-input'); return i.disabled && i.placeholder.includes('owner')`)
		// Past the disabled input, the server refuses too, and says so.
		b.exec(nil, `window.pianorhythm.request('chat', {chat: {text: 'sneaking past'}})`)
		b.waitJS("the refusal toast", waitShort, `return [...document.querySelectorAll('#toasts .toast')].some(t => t.textContent.includes('Only the room owner may chat'))`)
		a.click("#chat-input")
		a.typeInto("#chat-input", "owner speaking\uE007")
		b.waitJS("the owner's chat in B", waitShort, hasChat, "owner speaking")
		if b.poll(0, hasChat, "sneaking past") {
			t.Error("B's refused chat line is shown")
		}

		changeSettings(t, a, "Jazz Club", false)
		a.click(`#room-settings-dialog button[value=ok]`)
		b.waitJS("the old name back in B", waitShort, inRoom, roomID, "Jazz Club")
		b.waitJS("B's chat input enabled", waitShort, `return !document.querySelector('#chat-input').disabled`)
		a.waitJS("the dialog closed", waitShort, `return !document.querySelector('#room-settings-dialog').open`)
		a.keyDown("\uE00C") // leave the chat input, so keys play again
		a.keyUp("\uE00C")
	})

	t.Run("a dropped connection shows the banner and comes back", func(t *testing.T) {
		a, b := a.in(t), b.in(t)
		dropConnections(t, sys, idB)
		b.waitJS("banner shown", waitShort, `return !document.querySelector('#reconnect-banner').hidden`)
		if txt := b.text("#reconnect-banner"); !strings.Contains(txt, "Reconnecting") {
			t.Errorf("the banner says %q", txt)
		}
		b.waitJS("banner gone and back online", waitShort, `return document.querySelector('#reconnect-banner').hidden && document.querySelector('#status').dataset.state === 'online'`)
		var after string
		b.exec(&after, `return window.pianorhythm.state.me.id`)
		if after != idB {
			t.Errorf("reconnected as %q, want the same guest %q", after, idB)
		}
		b.waitJS("back in the password room", waitShort, inRoom, roomID, "Jazz Club")
		b.waitJS("A in B's member list", waitShort, hasMember, idA)
		if got := b.text("#me-name"); got != "Bea" {
			t.Errorf("B's own name after the reconnect is %q, want Bea", got)
		}
		a.click("#chat-input")
		a.typeInto("#chat-input", "welcome back, B\uE007")
		b.waitJS("A's chat after the reconnect", waitShort, hasChat, "welcome back, B")
	})

	// What A sees of B after B's reconnect. Two known bugs of the edge
	// (services/connection/internal/edge, not owned by this suite) break
	// it today; each is detected by its symptom and reported as a skip, so
	// that the check turns into a plain assertion once the bug is fixed.
	t.Run("the others see the reconnected member as before", func(t *testing.T) {
		a, b := a.in(t), b.in(t)
		b.click("#chat-input")
		b.typeInto("#chat-input", "B is back\uE007")
		b.waitJS("own chat after the reconnect", waitShort, hasChat, "B is back")
		if !a.poll(waitShort, hasChat, "B is back") {
			saveScreenshot(t, a, "failed-room-events-after-reconnect.png")
			t.Fatal("A did not get B's chat after B reconnected")
		}
		// B's join was published before its chat line: no long wait needed.
		if !a.poll(2*time.Second, named, idB, "Bea") {
			saveScreenshot(t, a, "failed-stale-name.png")
			var shown string
			a.exec(&shown, `return document.querySelector('#members li[data-user-id="' + arguments[0] + '"] .name')?.textContent ?? ''`, idB)
			t.Fatalf("after the reconnect A shows B as %q, want Bea", shown)
		}
	})

	t.Run("repeated refusals make one toast in words, away from the keys", func(t *testing.T) {
		toastsForPeople(t, b.in(t))
	})

	t.Run("the owner bans with a visible button; the ban says until when", func(t *testing.T) {
		banWithLocalTime(t, a.in(t), b.in(t), idB, roomID)
	})

	var annID, bobID string
	t.Run("logging in shows no join or leave of oneself", func(t *testing.T) {
		a, b := a.in(t), b.in(t)
		guestSeesNoFriends(t, b)
		annID = register(t, a, "ann")
		bobID = register(t, b, "bob")
		a.click("#chat-input")
		a.typeInto("#chat-input", "ann is here\uE007")
		a.waitJS("own chat after the login", waitShort, hasChat, "ann is here")
		quietNotices(t, a, "A")
		quietNotices(t, b, "B")
		a.keyDown("\uE00C")
		a.keyUp("\uE00C")
	})

	t.Run("friends for members, with their room kept", func(t *testing.T) {
		if annID == "" || bobID == "" {
			t.Skip("no accounts")
		}
		friendsKeepTheirRoom(t, a.in(t), b.in(t), annID, bobID)
		quietNotices(t, a.in(t), "A")
	})

	t.Run("the first note after loading is heard", func(t *testing.T) {
		firstNoteSounds(t, wd, sys.URL())
	})

	t.Run("88 keys on a 390 px screen, playable by touch", func(t *testing.T) {
		narrowTouchScreen(t, b.in(t))
	})

	t.Run("back at once when the server returns; a stale token gives a fresh guest", func(t *testing.T) {
		a, b := a.in(t), b.in(t)
		var ready time.Time
		sys, cfg, ready = restartServer(t, sys, cfg, false)
		for name, s := range map[string]*session{"A": a, "B": b} {
			s.waitJS(name+" online within 2 s of the server's return", 2*time.Second-time.Since(ready), online)
		}
		saveScreenshot(t, a, "browser-after-restart.png")
		for name, w := range map[string]struct {
			s    *session
			user string
		}{"A": {a, "ann"}, "B": {b, "bob"}} {
			var user string
			w.s.exec(&user, `return window.pianorhythm.state.me.username || ''`)
			if user != w.user {
				t.Errorf("after a restart on the same data %s is %q, want still %q", name, user, w.user)
			}
		}
		// A data reset: the accounts and the signing key are gone, so the
		// stored logins are stale: the pages come back as fresh guests.
		sys, cfg, ready = restartServer(t, sys, cfg, true)
		for name, s := range map[string]*session{"A": a, "B": b} {
			s.waitJS(name+" online as a guest after the data reset", waitShort, `return document.querySelector('#status')?.dataset.state === 'online' && !!window.pianorhythm.state.room && window.pianorhythm.state.me.guest`)
		}
		t.Logf("online as guests %v after the reset server was ready", time.Since(ready).Round(time.Millisecond))
		a.waitJS("A told the login is no longer valid", waitShort, hasToast, "no longer valid")
		saveScreenshot(t, a, "browser-after-reset.png")
	})

	for name, s := range map[string]*session{"A": a, "B": b} {
		var errs []string
		s.exec(&errs, `return window.pianorhythm.errors`)
		if len(errs) > 0 {
			t.Errorf("window %s had script errors: %q", name, errs)
		}
	}
}

// changeSettings opens the room settings in s (the owner's window), sets
// the name and "only owner can chat", and leaves the dialog open for Save.
func changeSettings(t *testing.T, s *session, name string, onlyOwnerChats bool) {
	t.Helper()
	s.click("#room-settings-btn")
	s.waitJS("the room settings dialog", waitShort, `return document.querySelector('#room-settings-dialog').open`)
	s.exec(nil, `document.querySelector('#room-settings-dialog input[name=name]').value = ''`)
	s.typeInto(`#room-settings-dialog input[name=name]`, name)
	var checked bool
	s.exec(&checked, `return document.querySelector('#room-settings-dialog input[name=onlyOwnerCanChat]').checked`)
	if checked != onlyOwnerChats {
		s.click(`#room-settings-dialog input[name=onlyOwnerCanChat]`)
	}
}
