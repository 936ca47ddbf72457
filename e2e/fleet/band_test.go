package fleet_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pianorhythm/server/e2e/fleet"
)

// A band is a group of WebSocket clients in one room that play notes and
// chat the way people do, recording what they sent so that what every
// other member heard can be checked.
type band struct {
	t       *testing.T
	room    string
	members []*member

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	chats []chat
}

// member is one client of a band and what it sent.
type member struct {
	c    *fleet.Client
	edge string

	mu   sync.Mutex
	sent []sent // note batches, in order
}

type sent struct {
	stamp int64
	at    time.Time
}

// chat is one chat line sent and its reply.
type chat struct {
	from  int // member index
	text  string
	reply fleet.Reply
}

// newBand connects n clients to each edge in edges, in turn, and makes
// them all join room (the first creates it).
func newBand(t *testing.T, f *fleet.Fleet, room string, edges []string, n int) *band {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	b := &band{t: t, room: room, ctx: ctx, cancel: cancel}
	t.Cleanup(b.close)
	for i := range n {
		edge := edges[i%len(edges)]
		c, err := fleet.Dial(t.Context(), f.WebSocketURL(edge))
		if err != nil {
			t.Fatalf("client %d on %s: %v", i, edge, err)
		}
		b.members = append(b.members, &member{c: c, edge: edge})
		if _, err := c.Join(t.Context(), room, i == 0); err != nil {
			t.Fatalf("client %d on %s: %v", i, edge, err)
		}
	}
	return b
}

func (b *band) close() {
	b.cancel()
	b.wg.Wait()
	for _, m := range b.members {
		m.c.Close()
	}
}

// play makes every member send a note batch every interval until stop;
// each batch's time field is a stamp unique to the sender.
func (b *band) play(interval time.Duration) {
	for _, m := range b.members {
		b.wg.Go(func() {
			t := time.NewTicker(interval)
			defer t.Stop()
			for stamp := int64(1); ; stamp++ {
				select {
				case <-b.ctx.Done():
					return
				case <-t.C:
				}
				at := time.Now()
				if err := m.c.Notes(b.ctx, stamp); err != nil {
					return
				}
				m.mu.Lock()
				m.sent = append(m.sent, sent{stamp: stamp, at: at})
				m.mu.Unlock()
			}
		})
	}
}

// chatter makes the members chat in turn, one line every interval (each
// member's turn comes every interval*len(members), under the chat rate
// limit), each line "<prefix>-<n>", until stop.
func (b *band) chatter(prefix string, interval time.Duration) {
	b.wg.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		var lines sync.WaitGroup
		defer lines.Wait()
		for n := 0; ; n++ {
			select {
			case <-b.ctx.Done():
				return
			case <-t.C:
			}
			i := n % len(b.members)
			text := fmt.Sprintf("%s-%d", prefix, n)
			lines.Go(func() {
				r := b.members[i].c.Chat(context.WithoutCancel(b.ctx), text, 5*time.Second)
				b.mu.Lock()
				b.chats = append(b.chats, chat{from: i, text: text, reply: r})
				b.mu.Unlock()
			})
		}
	})
}

// stop ends playing and chatting and waits for the last replies.
func (b *band) stop() {
	b.cancel()
	b.wg.Wait()
}

// chatsSent returns the chat lines whose send time is in [from, to).
func (b *band) chatsSent(from, to time.Time) []chat {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []chat
	for _, c := range b.chats {
		if !c.reply.Sent.Before(from) && c.reply.Sent.Before(to) {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b chat) int { return a.reply.Sent.Compare(b.reply.Sent) })
	return out
}

// noteStats is what listeners heard of the notes sent in a window.
type noteStats struct {
	// maxGap is the longest time any listener went without a batch from
	// any one sender, counting the window's ends.
	maxGap   time.Duration
	gapPair  string
	sent     int // batches sent in the window, times listeners
	lost     int // of those, never heard
	lostPair map[string]int
}

func (s noteStats) String() string {
	return fmt.Sprintf("max gap %v (%s), %d of %d batch deliveries lost", s.maxGap.Round(time.Millisecond), s.gapPair, s.lost, s.sent)
}

// notes measures, for every pair of members that include(listener,
// sender) accepts, the note batches sent in [from, to): the largest
// inter-arrival gap at the listener and the batches that never arrived.
// Call it once the batches had time to arrive.
func (b *band) notes(from, to time.Time, include func(listener, sender *member) bool) noteStats {
	st := noteStats{lostPair: map[string]int{}}
	for li, l := range b.members {
		heard := map[string]map[int64]time.Time{}
		for _, f := range l.c.Frames() {
			if n := f.Msg.GetNotes(); n != nil {
				if heard[n.GetUserId()] == nil {
					heard[n.GetUserId()] = map[int64]time.Time{}
				}
				heard[n.GetUserId()][n.GetTime()] = f.At
			}
		}
		for si, s := range b.members {
			if si == li || (include != nil && !include(l, s)) {
				continue
			}
			pair := fmt.Sprintf("%d@%s hearing %d@%s", li, l.edge, si, s.edge)
			s.mu.Lock()
			sentNow := append([]sent(nil), s.sent...)
			s.mu.Unlock()
			arrivals := []time.Time{from}
			for _, x := range sentNow {
				at, ok := heard[s.c.ID()][x.stamp]
				if !x.at.Before(from) && x.at.Before(to) {
					st.sent++
					if !ok {
						st.lost++
						st.lostPair[pair]++
					}
				}
				if ok && !at.Before(from) && at.Before(to) {
					arrivals = append(arrivals, at)
				}
			}
			arrivals = append(arrivals, to)
			slices.SortFunc(arrivals, time.Time.Compare)
			for i := 1; i < len(arrivals); i++ {
				if g := arrivals[i].Sub(arrivals[i-1]); g > st.maxGap {
					st.maxGap, st.gapPair = g, pair
				}
			}
		}
	}
	return st
}

// gapLimit is the largest note gap allowed during a fault, given the
// baseline's: twice it plus 200ms, room for the scheduling noise of a
// shared machine, far below the seconds of silence a fault that reaches
// the note path causes.
func gapLimit(baseline time.Duration) time.Duration { return 2*baseline + 200*time.Millisecond }

// heardChat reports the members that never got a chat frame with text.
func (b *band) missedChat(text string) []int {
	var missed []int
	for i, m := range b.members {
		found := false
		for _, f := range m.c.Frames() {
			if f.Msg.GetChat().GetMessage().GetText() == text {
				found = true
				break
			}
		}
		if !found {
			missed = append(missed, i)
		}
	}
	return missed
}

// history joins room with a new client on edge and returns the texts of
// the chat history it is shown.
func history(t *testing.T, f *fleet.Fleet, edge, room string) map[string]bool {
	t.Helper()
	c, err := fleet.Dial(t.Context(), f.WebSocketURL(edge))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rj, err := c.Join(t.Context(), room, false)
	if err != nil {
		t.Fatalf("join %s again for its history: %v", room, err)
	}
	texts := map[string]bool{}
	for _, m := range rj.GetChatHistory() {
		texts[m.GetText()] = true
	}
	return texts
}

// codes counts reply outcomes ("ok", an error code, or "no reply").
func codes(chats []chat) string {
	n := map[string]int{}
	for _, c := range chats {
		switch {
		case c.reply.Err != nil:
			n["no reply"]++
		case c.reply.OK():
			n["ok"]++
		default:
			n[c.reply.Code()]++
		}
	}
	var parts []string
	for k, v := range n {
		parts = append(parts, fmt.Sprintf("%s %d", k, v))
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// slowest is the largest reply latency among chats.
func slowest(chats []chat) time.Duration {
	var d time.Duration
	for _, c := range chats {
		d = max(d, c.reply.Latency())
	}
	return d
}
