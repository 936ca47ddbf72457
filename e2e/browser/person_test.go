package browser_test

// The scenarios of a person meeting the page (issue 17): where the keys
// go, the first note, messages for people, friends for members only,
// a keyboard for narrow screens and touch, and the way back after a
// server restart.

import (
	"context"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pianorhythm/server/internal/allinone"
)

// Scripts polled by the scenarios below.
const (
	toastCount = `return [...document.querySelectorAll('#toasts .toast')].filter(t => t.textContent.includes(arguments[0])).length`
	hasToast   = `return [...document.querySelectorAll('#toasts .toast')].some(t => t.textContent.includes(arguments[0]))`
	// shown: the element is rendered and takes space, without a hover.
	shown = `const e = document.querySelector(arguments[0]); if (!e) return false;
		const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden'`
	notices = `return [...document.querySelectorAll('#chat-log .chat-notice span')].map(s => s.textContent)`
	isGuest = `return !!window.pianorhythm.state.me?.guest`
)

// focusReturnsToPiano: typing in a field, then a click on a key, gives
// the keyboard back to the piano (item 1); Esc does too; a hint says
// where the keys go.
func focusReturnsToPiano(t *testing.T, a, b *session) {
	field := `#create-room input[name=name]`
	a.click(field)
	a.typeInto(field, "My")
	if hint := a.text("#focus-hint"); !strings.Contains(hint, "Typing in") {
		t.Errorf("while typing in a field the hint says %q, want where the keys go", hint)
	}
	a.mouseDown(`#keyboard [data-note="60"]`)
	a.mouseUp()
	a.keyDown("q")
	a.waitJS("own key lit by Q", waitShort, lit, 60, true)
	b.waitJS("Q heard in the other window", waitShort, lit, 60, true)
	a.keyUp("q")
	a.keyDown(" ")
	a.keyUp(" ")
	a.keyDown("\uE014") // Right
	a.keyUp("\uE014")
	var value string
	a.exec(&value, `return document.querySelector(arguments[0]).value`, field)
	if value != "My" {
		t.Errorf("the field reads %q after a click on the piano and Q, Space, Right; want %q", value, "My")
	}
	if got := a.text("#sustain"); got != "Sustain: on" {
		t.Errorf("Space after a click on the piano: %q, want Sustain: on", got)
	}
	if got := a.text("#octave"); got != "1" {
		t.Errorf("Right after a click on the piano: octave %q, want 1", got)
	}
	if hint := a.text("#focus-hint"); hint != "Your keys play the piano" {
		t.Errorf("after the click on the piano the hint says %q", hint)
	}
	saveScreenshot(t, a, "browser-focus.png")
	// Esc from the chat input gives the keys back too.
	a.click("#chat-input")
	a.keyDown("\uE00C")
	a.keyUp("\uE00C")
	a.waitJS("the hint back on the piano after Esc", waitShort, `return document.querySelector('#focus-hint').dataset.where === 'piano' && document.activeElement === document.body`)
	// Back as it was: sustain off, octave 0, the field empty.
	a.keyDown(" ")
	a.keyUp(" ")
	a.keyDown("\uE012") // Left
	a.keyUp("\uE012")
	a.exec(nil, `document.querySelector(arguments[0]).value = ''`, field)
}

// firstNoteSounds: a window without the autoplay exemption, as a person's
// browser is: the first key press unlocks the audio and is heard, through
// the page's audio tap (item 2).
func firstNoteSounds(t *testing.T, wd *webDriver, url string) {
	c := wd.newSessionWith(t, false)
	c.navigate(url)
	c.waitJS("the page to be online in a room", waitLong, online)
	var running bool
	c.exec(&running, `return window.pianorhythm.synth.running`)
	if running {
		t.Log("the audio already runs before any gesture: this browser allows autoplay, the check proves less")
	}
	c.mouseDown(`#keyboard [data-note="60"]`)
	if !c.poll(waitShort, `return window.pianorhythm.synth.level() > 0.001`) {
		saveScreenshot(t, c, "failed-first-note-silent.png")
		var why string
		c.exec(&why, `const s = window.pianorhythm.synth; return 'context ' + (s.ctx ? s.ctx.state : 'none') + ', voices ' + s.voices.size + ', level ' + s.level() + ', activation ' + navigator.userActivation?.hasBeenActive`)
		t.Fatalf("the first note after the page loaded was not heard at the audio tap (%s)", why)
	}
	c.mouseUp()
	saveScreenshot(t, c, "browser-first-note.png")
}

// guestSeesNoFriends: guests have no friends, so they are not offered the
// friends panel nor "+ Friend" on members (item 5).
func guestSeesNoFriends(t *testing.T, s *session) {
	if s.poll(0, shown, "#friends-section") {
		t.Error("a guest is shown the Friends panel")
	}
	if s.poll(0, `return !!document.querySelector('#members [data-act=friend]')`) {
		t.Error("a guest is offered to add a member as a friend")
	}
}

// register opens the login dialog of s and registers username.
func register(t *testing.T, s *session, username string) string {
	s.click("#login-btn")
	s.waitJS("the login dialog", waitShort, `return document.querySelector('#login-dialog').open`)
	s.typeInto(`#login-dialog input[name=username]`, username)
	s.typeInto(`#login-dialog input[name=password]`, "correct-horse-9")
	s.click(`#login-dialog button[value=register]`)
	s.waitJS("logged in as "+username, waitShort, `return window.pianorhythm.state.me?.username === arguments[0] && !!window.pianorhythm.state.room`, username)
	var id string
	s.exec(&id, `return window.pianorhythm.state.me.id`)
	return id
}

// quietNotices fails when s's chat shows a join or leave that is only the
// page's own login (item 10).
func quietNotices(t *testing.T, s *session, who string) {
	var lines []string
	s.exec(&lines, notices)
	for _, l := range lines {
		if (strings.Contains(l, " joined") || strings.Contains(l, " left")) && !strings.HasPrefix(l, "You joined") {
			t.Errorf("%s's chat shows %q after logging in", who, l)
		}
	}
}

// toastsForPeople: repeated refusals make one toast, in words, placed
// away from the keys (item 7).
func toastsForPeople(t *testing.T, s *session) {
	s.click("#chat-input")
	var burst strings.Builder
	for i := range 9 {
		burst.WriteString("quick " + string(rune('a'+i)) + "\uE007")
	}
	s.typeInto("#chat-input", burst.String())
	s.waitJS("the rate limit toast", waitShort, hasToast, "You are chatting too fast")
	var n int
	s.exec(&n, toastCount, "You are chatting too fast")
	if n != 1 {
		t.Errorf("%d toasts say the chat is too fast, want one", n)
	}
	var words []string
	s.exec(&words, `return [...document.querySelectorAll('#toasts .toast .text')].map(t => t.textContent)`)
	for _, w := range words {
		if regexp.MustCompile(`\([A-Z_]+\)|[A-Z]{2,}_[A-Z]`).MatchString(w) {
			t.Errorf("a toast speaks to developers: %q", w)
		}
	}
	var overlap bool
	s.exec(&overlap, `const k = document.querySelector('#keyboard-scroll').getBoundingClientRect();
		return [...document.querySelectorAll('#toasts .toast')].some(t => { const r = t.getBoundingClientRect(); return r.bottom > k.top && r.top < k.bottom; })`)
	if overlap {
		t.Error("a toast covers the keys")
	}
	saveScreenshot(t, s, "browser-toast.png")
	s.keyDown("\uE00C")
	s.keyUp("\uE00C")
}

// banWithLocalTime: the owner bans B with a button shown without hover;
// B is told until when in local time, and so is a later try to come back
// (items 6 and 7).
func banWithLocalTime(t *testing.T, a, b *session, idB, roomID string) {
	ban := `#members li[data-user-id="` + idB + `"] [data-act=ban]`
	for _, act := range []string{"kick", "ban", "transfer"} {
		if !a.poll(0, shown, `#members li[data-user-id="`+idB+`"] [data-act=`+act+`]`) {
			t.Errorf("the owner's %s button for B is not visible without a hover", act)
		}
	}
	saveScreenshot(t, a, "browser-moderation.png")
	a.click(ban)
	until := regexp.MustCompile(`until \d{1,2}:\d\d`)
	b.waitJS("B told of the ban", waitShort, hasToast, "banned you from \u201cJazz Club\u201d")
	var text string
	b.exec(&text, `return [...document.querySelectorAll('#toasts .toast .text')].map(t => t.textContent).join(' | ')`)
	if !until.MatchString(text) || strings.Contains(text, "Z") {
		t.Errorf("the ban toast is %q, want until when in local time", text)
	}
	b.waitJS("B back in the lobby", waitShort, `return window.pianorhythm.state.room?.id === 'lobby'`)
	room := `#room-list li[data-room-id="` + roomID + `"]`
	b.waitJS("the room listed", waitShort, `document.querySelector('#refresh-rooms').click(); return !!document.querySelector(arguments[0])`, room)
	b.click(room)
	if b.poll(waitShort, `return document.querySelector('#password-dialog').open`) {
		b.typeInto(`#password-dialog input[name=password]`, "secret")
		b.click(`#password-dialog button[value=ok]`)
	}
	b.waitJS("the banned toast", waitShort, hasToast, "You are banned from \u201cJazz Club\u201d until")
	b.exec(&text, `return [...document.querySelectorAll('#toasts .toast .text')].map(t => t.textContent).filter(t => t.includes('You are banned')).join(' | ')`)
	if !until.MatchString(text) || strings.Contains(text, "Z") || strings.Contains(text, "BANNED") {
		t.Errorf("the refused join says %q, want a sentence with the local time", text)
	}
	saveScreenshot(t, b, "browser-banned.png")
}

// friendsKeepTheirRoom: members befriend each other with buttons shown
// without hover, and a friend's room stays in the list after a refresh
// and a reload (items 4 and 6).
func friendsKeepTheirRoom(t *testing.T, a, b *session, idA, idB string) {
	if !a.poll(waitShort, shown, "#friends-section") {
		t.Fatal("a member is not shown the Friends panel")
	}
	a.typeInto(`#add-friend input[name=userId]`, idB+"\uE007")
	accept := `#friends li[data-user-id="` + idA + `"] [data-act=accept]`
	b.waitJS("the request in B's list", waitShort, `return !!document.querySelector(arguments[0])`, accept)
	if !b.poll(0, shown, accept) || !b.poll(0, shown, `#friends li[data-user-id="`+idA+`"] [data-act=decline]`) {
		t.Error("Accept and Decline are not visible without a hover")
	}
	saveScreenshot(t, b, "browser-friend-request.png")
	b.click(accept)
	// B sees A's room (a password room, by its name) in the list reply.
	ofA := `#friends li[data-user-id="` + idA + `"]`
	b.waitJS("A as a friend", waitShort, `return !!document.querySelector(arguments[0] + ' [data-act=remove]')`, ofA)
	b.click("#refresh-friends")
	b.waitJS("A's room in B's refreshed list", waitShort, `const e = document.querySelector(arguments[0]); return !!e && e.textContent.includes('in Jazz Club') && !!e.querySelector('[data-act=join]')`, ofA)
	entry := `#friends li[data-user-id="` + idB + `"]`
	inLobby := `const e = document.querySelector(arguments[0]); return !!e && /\bin Lobby|in lobby/i.test(e.textContent) && !!e.querySelector('[data-act=join]')`
	a.waitJS("B as a friend in the lobby", waitShort, `document.querySelector('#refresh-friends').click(); const e = document.querySelector(arguments[0]); return !!e && e.textContent.includes('in ')`, entry)
	a.click("#refresh-friends")
	a.waitJS("B's room after a refresh", waitShort, inLobby, entry)
	a.exec(nil, `location.hash = ''; location.reload()`)
	a.waitJS("the page back after a reload", waitLong, online)
	a.waitJS("B's room after a reload", waitShort, inLobby, entry)
	if a.poll(0, `return !!document.querySelector('#members li[data-user-id="' + arguments[0] + '"] [data-act=friend]')`, idB) {
		t.Error("a friend is still offered \"+ Friend\" in the member list")
	}
	saveScreenshot(t, a, "browser-friends.png")
}

// narrowTouchScreen: on a 390 px screen the 88 keys keep a finger's width
// and scroll; a touch plays a key (item 11).
func narrowTouchScreen(t *testing.T, s *session) {
	s.cmd(http.MethodPost, "/window/rect", map[string]int{"width": 390, "height": 844}, nil)
	s.waitJS("a narrow window", waitShort, `return document.documentElement.clientWidth <= 390`)
	var keys, whiteWidth float64
	s.exec(&keys, `return document.querySelectorAll('#keyboard .key').length`)
	s.exec(&whiteWidth, `return document.querySelector('#keyboard .key.white').getBoundingClientRect().width`)
	if keys != 88 {
		t.Errorf("the keyboard has %v keys, want 88", keys)
	}
	if whiteWidth < 20 {
		t.Errorf("white keys are %.1f px wide at 390 px, want a finger's width (20 px or more)", whiteWidth)
	}
	var overflow bool
	s.exec(&overflow, `return document.documentElement.scrollWidth > document.documentElement.clientWidth`)
	if overflow {
		t.Error("the page scrolls sideways on a narrow screen (only the keyboard should)")
	}
	s.waitJS("the keyboard scrolls, middle C in view", waitShort, `const box = document.querySelector('#keyboard-scroll'), c4 = document.querySelector('#keyboard [data-note="60"]').getBoundingClientRect(), r = box.getBoundingClientRect();
		return box.scrollWidth > box.clientWidth && c4.left >= r.left && c4.right <= r.right && !document.querySelector('#keyboard-pan').hidden`)
	// A tap on D4: the key lights while the finger is down and goes
	// out when it lifts (seen by an observer: one action sequence).
	s.exec(nil, `window.__taps = []; const k = document.querySelector('#keyboard [data-note="62"]');
		new MutationObserver(() => window.__taps.push(k.classList.contains('active'))).observe(k, { attributes: true, attributeFilter: ['class'] })`)
	el := s.find(`#keyboard [data-note="62"]`)
	s.cmd(http.MethodPost, "/actions", map[string]any{"actions": []any{map[string]any{
		"type": "pointer", "id": "finger", "parameters": map[string]string{"pointerType": "touch"},
		"actions": []any{
			map[string]any{"type": "pointerMove", "duration": 0, "origin": map[string]string{webElementKey: el}, "x": 0, "y": 30},
			map[string]any{"type": "pointerDown", "button": 0},
			map[string]any{"type": "pause", "duration": 150},
			map[string]any{"type": "pointerUp", "button": 0},
		},
	}}}, nil)
	var taps []bool
	s.exec(&taps, `return window.__taps`)
	if len(taps) < 2 || !taps[0] || taps[len(taps)-1] {
		t.Errorf("a tap on D4 lit and released it as %v, want [true false]", taps)
	}
	saveScreenshot(t, s, "browser-narrow.png")
	s.cmd(http.MethodDelete, "/actions", nil, nil)
	s.cmd(http.MethodPost, "/window/rect", map[string]int{"width": 1400, "height": 900}, nil)
}

// restartServer stops the system and starts it again on the same address;
// fresh gives it a new data directory and key prefix (a data reset). It
// returns the new system and when it was ready.
func restartServer(t *testing.T, old *allinone.System, cfg allinone.Config, fresh bool) (*allinone.System, allinone.Config, time.Time) {
	t.Helper()
	host := strings.TrimSuffix(strings.TrimPrefix(old.URL(), "http://"), "/")
	_, port, _ := net.SplitHostPort(host)
	stopSystem(t, old)
	cfg.HTTPAddr = "127.0.0.1:" + port
	if fresh {
		fresh := systemConfig(t)
		fresh.HTTPAddr = cfg.HTTPAddr
		cfg = fresh
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sys, err := allinone.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("restart the system: %v", err)
	}
	t.Cleanup(func() { stopSystem(t, sys) })
	return sys, cfg, time.Now()
}

// notePathUnits checks the page's own note path in the page's own modules
// (net.js): the batcher sends a note after a pause at once and, while
// notes keep coming, at most one message per interval; the playback buffer
// follows each sender's lateness and never plays a sender's events out of
// order, even as it shrinks.
func notePathUnits(t *testing.T, s *session) {
	var res struct {
		FirstAtOnce bool      `json:"firstAtOnce"`
		Gathered    int       `json:"gathered"`
		Messages    int       `json:"messages"`
		Buffers     []float64 `json:"buffers"`
		Order       []float64 `json:"order"`
		OtherBuffer float64   `json:"otherBuffer"`
		AfterHiccup float64   `json:"afterHiccup"`
		Err         string    `json:"err"`
	}
	s.execAsync(&res, `const done = arguments[arguments.length - 1];
		import('/net.js').then(({ NoteBatcher, JitterBuffer }) => {
			let now = 1000;
			const sent = [];
			const b = new NoteBatcher({ clock: { now: () => now }, send: (m) => sent.push(m), intervalMs: 25, now: () => now });
			b.push('NOTE_ON', 60, 90);
			const firstAtOnce = sent.length === 1;
			now += 5; b.push('NOTE_OFF', 60, 0);
			now += 5; b.push('NOTE_ON', 62, 90);
			const before = sent.length;
			now += 15; b.flush(); b.stop();
			const gathered = sent[sent.length - 1].notes.events.length;

			let t = 0;
			const j = new JitterBuffer({ marginMs: 3, window: 4, now: () => t });
			const buffers = [j.observe('a', 40), j.observe('a', 2), j.observe('a', 2), j.observe('a', 2), j.observe('a', 2), j.observe('a', 2)];
			// Events meant for 50, then 10, then 30 ms from now (a shrinking
			// buffer): played no earlier than the one before.
			const order = [j.order('a', 50), j.order('a', 10), j.order('a', 30)];
			// Once enough batches were seen, one hiccup in 40 does not set
			// the buffer.
			const k = new JitterBuffer({ marginMs: 3, window: 64 });
			for (let i = 0; i < 40; i++) k.observe('a', i === 20 ? 200 : 4);
			done({ firstAtOnce, gathered, messages: before, buffers, order, otherBuffer: j.ms('b'), afterHiccup: k.ms('a') });
		}).catch((e) => done({ err: String(e) }));`)
	if res.Err != "" {
		t.Fatalf("loading net.js: %s", res.Err)
	}
	if !res.FirstAtOnce {
		t.Error("a note after a pause is not sent at once")
	}
	if res.Messages != 1 || res.Gathered != 2 {
		t.Errorf("notes within the interval: %d messages sent before it ended, %d gathered after; want 1 and 2", res.Messages, res.Gathered)
	}
	if len(res.Buffers) != 6 || res.Buffers[0] != 43 || res.Buffers[5] != 5 {
		t.Errorf("the buffer over lateness 40 then 2 ms: %v, want 43 at first and 5 once the late batch left the window", res.Buffers)
	}
	for i := 1; i < len(res.Order); i++ {
		if res.Order[i] < res.Order[i-1] {
			t.Errorf("a sender's events are played out of order: %v", res.Order)
		}
	}
	if res.AfterHiccup != 7 {
		t.Errorf("after one late batch in 40 the buffer is %v ms, want 7 (the usual 4 ms lateness + 3)", res.AfterHiccup)
	}
	if res.OtherBuffer != 3 {
		t.Errorf("another sender's buffer is %v, want its own (3: no lateness seen)", res.OtherBuffer)
	}
}
