package pubsub

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pianorhythm/server/pkg/store/storetest"
	"github.com/pianorhythm/server/services/connection/internal/redisproc"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/alicebob/miniredis/v2/server.(*Server).servePeer"))
}

func TestParse(t *testing.T) {
	tests := []struct {
		channel string
		kind    Kind
		id      string
	}{
		{RoomChannel("pr:", "lobby"), Room, "lobby"},
		{UserChannel("pr:", "u1"), User, "u1"},
		{"other:room:x", Unknown, ""},
		{"pr:stream", Unknown, ""},
	}
	for _, tt := range tests {
		t.Run(tt.channel, func(t *testing.T) {
			if k, id := Parse("pr:", tt.channel); k != tt.kind || id != tt.id {
				t.Fatalf("Parse = %v %q", k, id)
			}
		})
	}
}

func TestSubscriberRefCounts(t *testing.T) {
	ctx := context.Background()
	rdb := storetest.Redis(t)
	prefix := storetest.Prefix(t)
	got := make(chan string, 10)
	s := NewSubscriber(ctx, rdb, func(ch string, p []byte) { got <- ch + "=" + string(p) }, SubscriberConfig{})
	defer s.Close()

	room := RoomChannel(prefix, "r")
	must(t, s.Subscribe(ctx, room))
	must(t, s.Subscribe(ctx, room))
	waitSubscribers(t, rdb.PubSubNumSub, room, 1)

	s.Unsubscribe(room)
	rdb.Publish(ctx, room, "one")
	select {
	case m := <-got:
		if m != room+"=one" {
			t.Fatalf("got %s", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no message while one reference is left")
	}
	s.Unsubscribe(room)
	waitSubscribers(t, rdb.PubSubNumSub, room, 0)
	if s.Channels() != 0 {
		t.Fatalf("%d channels left", s.Channels())
	}
	// Wanted again after it was dropped: subscribed again.
	must(t, s.Subscribe(ctx, room))
	waitSubscribers(t, rdb.PubSubNumSub, room, 1)
}

// TestRedisRestart: while the server is down the Watcher says so, Subscribe
// refuses at once and Unsubscribe does not wait; when it is back (empty)
// the Watcher says so and every channel wanted, including one asked for
// during the outage, is subscribed again.
func TestRedisRestart(t *testing.T) {
	srv := redisproc.Start(t)
	rdb := srv.Client()
	changes := make(chan bool, 10)
	w := NewWatcher(rdb, WatcherConfig{Interval: 50 * time.Millisecond, OnChange: func(up bool) { changes <- up }})
	defer w.Close()
	got := make(chan string, 10)
	s := NewSubscriber(context.Background(), rdb, func(ch string, p []byte) { got <- ch + "=" + string(p) },
		SubscriberConfig{Healthy: w.Up})
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	must(t, s.Subscribe(ctx, "kept"))
	must(t, s.Subscribe(ctx, "dropped"))
	srv.Kill()
	if up := awaitChange(t, changes); up {
		t.Fatal("watcher reported up after the kill")
	}
	if w.Up() {
		t.Fatal("Up() after the kill")
	}
	if err := s.Subscribe(ctx, "during"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("subscribe during the outage: %v, want ErrUnavailable", err)
	}
	s.Unsubscribe("dropped") // does not wait for the dead server

	srv.Restart()
	if up := awaitChange(t, changes); !up {
		t.Fatal("watcher did not report up after the restart")
	}
	s.Resubscribe()
	for _, ch := range []string{"kept", "during"} {
		waitSubscribers(t, rdb.PubSubNumSub, ch, 1)
	}
	waitSubscribers(t, rdb.PubSubNumSub, "dropped", 0)
	rdb.Publish(ctx, "during", "hello")
	select {
	case m := <-got:
		if m != "during=hello" {
			t.Fatalf("got %s", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no message on a channel wanted during the outage")
	}
}

func awaitChange(t *testing.T, changes chan bool) bool {
	t.Helper()
	select {
	case up := <-changes:
		return up
	case <-time.After(10 * time.Second):
		t.Fatal("watcher reported no change")
		return false
	}
}

func TestSubscribeAfterClose(t *testing.T) {
	rdb := storetest.Redis(t)
	var calls atomic.Int32
	s := NewSubscriber(context.Background(), rdb, func(string, []byte) { calls.Add(1) }, SubscriberConfig{})
	must(t, s.Close())
	if err := s.Subscribe(context.Background(), "x"); !errors.Is(err, ErrClosed) {
		t.Fatalf("subscribe after close: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestWatcherNoticesAQuickRestart: Redis restarted between two checks
// (never seen down) is still reported, by its new run_id.
func TestWatcherNoticesAQuickRestart(t *testing.T) {
	srv := redisproc.Start(t)
	rdb := srv.Client()
	changes := make(chan bool, 10)
	w := NewWatcher(rdb, WatcherConfig{Interval: 300 * time.Millisecond, OnChange: func(up bool) { changes <- up }})
	defer w.Close()
	time.Sleep(400 * time.Millisecond) // a check of the first server
	srv.Kill()
	srv.Restart()
	for {
		if up := awaitChange(t, changes); up {
			return // back (seen down, or seen to be another server)
		}
	}
}
