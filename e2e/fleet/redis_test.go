package fleet_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pianorhythm/server/e2e/fleet"
)

// redisLost: Redis is killed under play and comes back empty after 5s.
// Members on one edge keep hearing each other throughout (the edge's local
// fan-out does not depend on Redis); chat is refused with UNAVAILABLE, not
// NOT_FOUND, while Redis is away; within 5s of its return chat works again
// in every room that existed, the lobby and a user room, with their chat
// history (from MongoDB); members of a room that could not be restored
// were told so. Members stay connected throughout.
func redisLost(t *testing.T, f *fleet.Fleet) {
	// Three members on edge-1 and one on edge-2 in each room.
	edges := []string{"edge-1", "edge-1", "edge-2", "edge-1"}
	rooms := map[string]*band{
		"lobby":   newBand(t, f, "lobby", edges, 4),
		"fleet-f": newBand(t, f, "fleet-f", edges, 4),
	}
	// What each room's history must keep.
	before := map[string][]string{}
	for name, b := range rooms {
		for i, m := range b.members[:2] {
			text := fmt.Sprintf("%s before the loss %d", name, i)
			if r := m.c.Chat(t.Context(), text, 5*time.Second); !r.OK() {
				t.Fatalf("chat in %s before the loss: %s", name, r)
			}
			before[name] = append(before[name], text)
		}
		b.play(noteInterval)
	}
	// The chat archive is written in batches (at most a second apart).
	time.Sleep(3 * time.Second)
	begin := time.Now().Add(-2 * time.Second)

	kill := time.Now()
	f.KillRedis()
	killed := time.Now()
	// Chat during the outage: every room, in turn, every 500ms; the
	// outage lasts 5s whatever the answers take.
	var (
		mu     sync.Mutex
		during []chat
		wg     sync.WaitGroup
	)
	for n := 0; time.Since(killed) < 5*time.Second; n++ {
		for name, b := range rooms {
			m := b.members[n%len(b.members)]
			text := fmt.Sprintf("%s during the loss %d", name, n)
			wg.Go(func() {
				r := m.c.Chat(t.Context(), text, 5*time.Second)
				mu.Lock()
				during = append(during, chat{text: text, reply: r})
				mu.Unlock()
			})
		}
		time.Sleep(500 * time.Millisecond)
	}
	restart := time.Now()
	f.RestartRedis()
	back := time.Now()
	wg.Wait()

	// Chat works again in each room, or its members were told.
	recovered := map[string]time.Duration{}
	told := map[string]string{}
	for name, b := range rooms {
		ok := waitFor(t.Context(), 8*time.Second, func() bool {
			m := b.members[int(time.Since(back)/(250*time.Millisecond))%len(b.members)]
			return m.c.Chat(t.Context(), name+" after the loss", 2*time.Second).OK()
		})
		if ok {
			recovered[name] = time.Since(back)
		}
		told[name] = notified(b, name, back)
	}
	time.Sleep(time.Second)
	for _, b := range rooms {
		b.stop()
	}
	time.Sleep(time.Second)

	lobby := rooms["lobby"]
	sameEdge := func(l, s *member) bool { return l.edge == s.edge }
	base := lobby.notes(begin, kill, sameEdge)
	out := lobby.notes(killed, restart, sameEdge)
	outUser := rooms["fleet-f"].notes(killed, restart, sameEdge)
	cross := lobby.notes(killed, restart, func(l, s *member) bool { return l.edge != s.edge })
	for name, st := range map[string]noteStats{"lobby": out, "fleet-f": outUser} {
		if st.lost > 0 || st.maxGap > gapLimit(base.maxGap) {
			t.Errorf("%s: members on one edge while Redis was down: %v, baseline %v; want no batch lost and no gap above %v",
				name, st, base, gapLimit(base.maxGap))
		}
	}
	for _, c := range during {
		if c.reply.Code() != "UNAVAILABLE" || c.reply.Latency() > maxErrorLatency {
			t.Errorf("chat %q while Redis was down: %s, want error UNAVAILABLE within %v", c.text, c.reply, maxErrorLatency)
		}
	}
	for name, b := range rooms {
		for i, m := range b.members {
			if err := m.c.Closed(); err != nil {
				t.Errorf("%s member %d disconnected: %v", name, i, err)
			}
		}
		d, ok := recovered[name]
		switch {
		case ok && d <= 5*time.Second:
		case ok:
			t.Errorf("%s: chat works again %v after Redis returned, want within 5s", name, d.Round(time.Millisecond))
		case name == "lobby":
			t.Errorf("lobby: chat does not work 8s after Redis returned (the lobby always exists)")
		case told[name] == "":
			t.Errorf("%s: not restored 8s after Redis returned, and its members were not told", name)
		}
	}
	histories := map[string]string{}
	for name := range rooms {
		if _, ok := recovered[name]; !ok {
			continue
		}
		h := history(t, f, "edge-2", name)
		var missing []string
		for _, text := range before[name] {
			if !h[text] {
				missing = append(missing, text)
			}
		}
		histories[name] = fmt.Sprintf("%d of %d kept", len(before[name])-len(missing), len(before[name]))
		if len(missing) > 0 {
			t.Errorf("%s: chat history after Redis came back empty lacks %q", name, missing)
		}
	}
	t.Logf("figures: Redis killed for %v and restarted empty: same-edge notes baseline %v; lobby during %v; fleet-f during %v; "+
		"across edges during %v; chat during the loss: %s, slowest %v; chat back after %v (lobby) / %v (fleet-f); "+
		"members told: lobby %q, fleet-f %q; history kept: %v",
		restart.Sub(killed).Round(time.Millisecond), base, out, outUser, cross, codes(during), slowest(during).Round(time.Millisecond),
		durationOr(recovered, "lobby"), durationOr(recovered, "fleet-f"), told["lobby"], told["fleet-f"], histories)
}

// notified describes the frames since t that told the members of room
// their room changed or was lost (kicked, roomUpdated, or a roomJoined of
// a lobby they did not ask for), "" if none did.
func notified(b *band, room string, since time.Time) string {
	var seen []string
	for i, m := range b.members {
		for _, fr := range m.c.Frames() {
			if fr.At.Before(since) {
				continue
			}
			switch {
			case fr.Msg.GetKicked() != nil:
				seen = append(seen, fmt.Sprintf("%d kicked %q", i, fr.Msg.GetKicked().GetReason()))
			case fr.Msg.GetRoomUpdated() != nil:
				seen = append(seen, fmt.Sprintf("%d roomUpdated", i))
			case fr.Msg.GetRoomJoined() != nil && fr.Msg.GetId() == "" && fr.Msg.GetRoomJoined().GetRoom().GetId() != room:
				seen = append(seen, fmt.Sprintf("%d moved to %s", i, fr.Msg.GetRoomJoined().GetRoom().GetId()))
			}
		}
	}
	return strings.Join(seen, ", ")
}

func durationOr(m map[string]time.Duration, k string) string {
	if d, ok := m[k]; ok {
		return d.Round(time.Millisecond).String()
	}
	return "never"
}
