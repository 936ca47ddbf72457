package pubsub

import (
	"context"
	"testing"
	"time"

	"github.com/pianorhythm/server/pkg/store/storetest"
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
	s := NewSubscriber(ctx, rdb, func(ch string, p []byte) { got <- ch + "=" + string(p) })
	defer s.Close()

	room := RoomChannel(prefix, "r")
	must(t, s.Subscribe(ctx, room))
	must(t, s.Subscribe(ctx, room))
	waitSubscribers(t, rdb.PubSubNumSub, room, 1)

	must(t, s.Unsubscribe(ctx, room))
	rdb.Publish(ctx, room, "one")
	select {
	case m := <-got:
		if m != room+"=one" {
			t.Fatalf("got %s", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no message while one reference is left")
	}
	must(t, s.Unsubscribe(ctx, room))
	waitSubscribers(t, rdb.PubSubNumSub, room, 0)
	if s.Channels() != 0 {
		t.Fatalf("%d channels left", s.Channels())
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
