package fleet_test

import (
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pianorhythm/server/e2e/fleet"
)

// TestStartInAnyOrder starts every program before what it needs (Redis
// last of all): none exits, each says what it waits for, and all serve
// soon after Redis comes. A program told to stop while it waits exits
// within 10s with one line saying what it was waiting for.
func TestStartInAnyOrder(t *testing.T) {
	f := fleet.New(t, fleet.Layout{})
	f.KillRedis()
	names := f.Names("")
	for i := len(names) - 1; i >= 0; i-- { // edges first, state last
		f.Start(names[i], fleet.StartOptions{})
	}
	time.Sleep(3 * time.Second)
	waits := map[string]string{
		"state-1":   "waiting for redis",
		"analytics": "waiting for redis",
		"room-1":    "waiting for pianorhythm.v1.StateService",
		"edge-1":    "waiting for redis",
		"user":      "waiting for pianorhythm.v1.StateService",
	}
	for _, n := range names {
		if !f.Running(n) {
			t.Errorf("%s exited while its dependencies were missing:\n%s", n, f.Tail(n, 20))
			continue
		}
		if w, ok := waits[n]; ok && !f.WroteLine(n, w) {
			t.Errorf("%s does not say %q:\n%s", n, w, f.Tail(n, 20))
		}
	}
	f.RestartRedis()
	back := time.Now()
	var figures []string
	for _, n := range names {
		f.WaitHealthy(n)
		d := time.Since(back)
		figures = append(figures, n+" "+d.Round(time.Millisecond).String())
		if d > 10*time.Second {
			t.Errorf("%s healthy %v after Redis came, want within 10s", n, d)
		}
	}
	if !f.WroteLine("room-1", "waiting for pianorhythm.v1.StateService") && !f.WroteLine("room-1", "waiting for redis") {
		t.Errorf("room-1 never said what it waited for:\n%s", f.Tail("room-1", 20))
	}
	t.Logf("figures: started in reverse order with Redis last: healthy after Redis came: %s", strings.Join(figures, ", "))

	// Stopped while waiting.
	f.Kill9("state-1")
	f.Restart("room-1")
	if !waitFor(t.Context(), 10*time.Second, func() bool { return f.WroteLine("room-1", "waiting for pianorhythm.v1.StateService") }) {
		t.Fatalf("room-1 does not wait for the state service:\n%s", f.Tail("room-1", 20))
	}
	e, ok := f.Signal("room-1", syscall.SIGTERM, 15*time.Second)
	if !ok || e.After > 10*time.Second {
		t.Fatalf("room-1 waiting for the state service: %v after SIGTERM (exited %v)", e, ok)
	}
	last := lastLine(f.Tail("room-1", 5))
	if !strings.HasPrefix(last, "room: stopped while waiting") || !strings.Contains(last, f.GRPCAddr("state-1")) {
		t.Errorf("last line of room-1 after SIGTERM during the wait: %q, want one line naming the state service it waited for", last)
	}
	t.Logf("figures: room stopped while waiting for the state service: %v; said %q", e, last)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// TestStopWithinTenSeconds sends SIGTERM to each program, first with
// everything it depends on up (each must exit cleanly, status 0), then
// with its dependencies killed (Redis and MongoDB first, then the state
// service, then the rest): each must still be gone within 10s.
func TestStopWithinTenSeconds(t *testing.T) {
	f := fleet.New(t, fleet.Layout{})
	f.StartAll()
	b := newBand(t, f, "fleet-stop", []string{"edge-1"}, 2)
	b.play(noteInterval)

	var up []string
	for _, n := range []string{"edge-1", "monitor", "room-1", "user", "analytics", "state-1"} {
		e, ok := f.Signal(n, syscall.SIGTERM, 15*time.Second)
		up = append(up, n+": "+e.String())
		switch {
		case !ok:
			t.Errorf("%s still running %v after SIGTERM, its dependencies up:\n%s", n, e.After, f.Tail(n, 20))
		case e.After > 10*time.Second || e.Code != 0:
			t.Errorf("%s %v after SIGTERM with its dependencies up, want status 0 within 10s:\n%s", n, e, f.Tail(n, 20))
		}
	}
	b.stop()
	t.Logf("figures: SIGTERM, dependencies up: %s", strings.Join(up, "; "))

	f.StartAll()
	b = newBand(t, f, "fleet-stop-2", []string{"edge-1"}, 2)
	b.play(noteInterval)
	// Chat just before the stores go, so the state service holds archive
	// writes it cannot flush, and while they are gone, so calls fail.
	for _, m := range b.members {
		if r := m.c.Chat(t.Context(), "just before", 2*time.Second); !r.OK() {
			t.Errorf("chat before the stores were killed: %s", r)
		}
	}
	f.KillRedis()
	f.KillMongo()
	for _, m := range b.members {
		m.c.Chat(t.Context(), "while they are gone", 2*time.Second)
	}
	var mu sync.Mutex
	var down []string
	for _, group := range [][]string{{"state-1", "analytics"}, {"user", "room-1"}, {"edge-1", "monitor"}} {
		var wg sync.WaitGroup
		for _, n := range group {
			wg.Go(func() {
				e, ok := f.Signal(n, syscall.SIGTERM, 15*time.Second)
				mu.Lock()
				down = append(down, n+": "+e.String())
				mu.Unlock()
				if !ok || e.After > 10*time.Second {
					t.Errorf("%s %v after SIGTERM with its dependencies killed (exited %v), want gone within 10s:\n%s", n, e, ok, f.Tail(n, 20))
				}
			})
		}
		wg.Wait()
	}
	t.Logf("figures: SIGTERM, dependencies killed (Redis, MongoDB, then state, then the rest): %s", strings.Join(down, "; "))
}
