package fleet_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/e2e/fleet"
)

// eventCounts reads the analytics service's counts per event type.
func eventCounts(ctx context.Context, f *fleet.Fleet) (map[string]int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	res, err := pb.NewAnalyticsServiceClient(f.Conn("analytics")).EventCounts(ctx, &pb.EventCountsRequest{})
	if err != nil {
		return nil, err
	}
	return res.GetCounts(), nil
}

// settledCounts waits until the counts stop changing for a second (every
// event emitted so far applied) and returns them, but for the notes.
func settledCounts(t *testing.T, f *fleet.Fleet) map[string]int64 {
	t.Helper()
	var last map[string]int64
	stable := time.Time{}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		c, err := eventCounts(t.Context(), f)
		// The band plays on, and the edges count its notes every second:
		// they never settle while it plays.
		delete(c, "notes")
		if err == nil && maps.Equal(c, last) {
			if time.Since(stable) >= time.Second {
				return c
			}
		} else {
			last, stable = c, time.Now()
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("analytics counts never settled (last %v)", last)
	return nil
}

// analyticsAndMonitorKilled: kill -9 of the analytics and the monitor
// services while members play and chat: nothing a user does is affected,
// and the events emitted meanwhile are counted once each after the
// analytics service is back.
func analyticsAndMonitorKilled(t *testing.T, f *fleet.Fleet) {
	b := newBand(t, f, "fleet-c", bothEdges, 4)
	b.play(noteInterval)
	before := settledCounts(t, f)
	begin := time.Now()
	time.Sleep(4 * time.Second)

	kill := time.Now()
	f.Kill9("analytics")
	f.Kill9("monitor")
	killed := time.Now()
	readyDuring := map[string]string{}
	for _, e := range bothEdges {
		readyDuring[e] = "200 ready"
		if err := f.Ready(t.Context(), e); err != nil {
			readyDuring[e] = "503, not ready: " + strings.Join(notReady(err.Error()), ", ")
		}
	}

	// During the outage every member chats twice, and one more member
	// joins: four kinds of events for the analytics stream.
	var lines []chat
	for round := range 2 {
		for i, m := range b.members {
			text := fmt.Sprintf("c-outage-%d-%d", round, i)
			lines = append(lines, chat{from: i, text: text, reply: m.c.Chat(t.Context(), text, 5*time.Second)})
			time.Sleep(400 * time.Millisecond)
		}
	}
	late, err := fleet.Dial(t.Context(), f.WebSocketURL("edge-1"))
	if err != nil {
		t.Fatal(err)
	}
	defer late.Close()
	joinStart := time.Now()
	if _, err := late.Join(t.Context(), "fleet-c", false); err != nil {
		t.Errorf("join during the analytics outage: %v", err)
	}
	joinTook := time.Since(joinStart)
	restart := time.Now()
	f.Start("analytics", fleet.StartOptions{})
	f.Start("monitor", fleet.StartOptions{})
	analyticsBack := f.WaitHealthy("analytics")
	f.WaitHealthy("monitor")
	servingAt := time.Now()
	b.stop()
	time.Sleep(time.Second)

	for _, l := range lines {
		if !l.reply.OK() || l.reply.Latency() > maxErrorLatency {
			t.Errorf("chat %q while analytics and monitor were down: %s", l.text, l.reply)
		}
		if missed := b.missedChat(l.text); len(missed) > 0 {
			t.Errorf("chat %q not delivered to members %v", l.text, missed)
		}
	}
	base := b.notes(begin.Add(time.Second), kill, nil)
	out := b.notes(killed, restart, nil)
	if out.lost > 0 || out.maxGap > gapLimit(base.maxGap) {
		t.Errorf("notes while analytics and monitor were down: %v, baseline %v", out, base)
	}

	// Exactly once: every chat and the join counted, and nothing twice.
	want := maps.Clone(before)
	want["chat"] += int64(len(lines))
	want["room_joined"]++
	var got map[string]int64
	counted := waitFor(t.Context(), 20*time.Second, func() bool {
		got, _ = eventCounts(t.Context(), f)
		return got["chat"] >= want["chat"] && got["room_joined"] >= want["room_joined"]
	})
	countedAfter := time.Since(servingAt)
	time.Sleep(3 * time.Second) // anything counted twice would show now
	got, err = eventCounts(t.Context(), f)
	if err != nil {
		t.Fatal(err)
	}
	if !counted || got["chat"] != want["chat"] || got["room_joined"] != want["room_joined"] {
		t.Errorf("after the analytics restart: chat %d, room_joined %d; want exactly %d and %d (before the outage %d and %d)",
			got["chat"], got["room_joined"], want["chat"], want["room_joined"], before["chat"], before["room_joined"])
	}
	t.Logf("figures: analytics and monitor killed %v: %d chats all acknowledged, slowest %v; join took %v; notes baseline %v, during %v; "+
		"edges' /readyz during the outage: edge-1 %q, edge-2 %q; analytics healthy %v after restart; "+
		"events counted %v after that: chat %d -> %d (want +%d), room_joined %d -> %d (want +1)",
		restart.Sub(killed).Round(time.Millisecond), len(lines), slowest(lines).Round(time.Millisecond), joinTook.Round(time.Millisecond),
		base, out, readyDuring["edge-1"], readyDuring["edge-2"], analyticsBack.Round(time.Millisecond), countedAfter.Round(time.Millisecond),
		before["chat"], got["chat"], len(lines), before["room_joined"], got["room_joined"])
}

// notReady lists the checks a /readyz answer ("/readyz 503 {json}") names
// as failing.
func notReady(answer string) []string {
	var body struct {
		NotReady map[string]string `json:"notReady"`
	}
	if i := strings.Index(answer, "{"); i < 0 || json.Unmarshal([]byte(answer[i:]), &body) != nil {
		return []string{answer}
	}
	return slices.Sorted(maps.Keys(body.NotReady))
}
