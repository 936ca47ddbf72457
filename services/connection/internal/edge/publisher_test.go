package edge

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/logtest"
	"github.com/pianorhythm/server/pkg/store/storetest"
	"github.com/pianorhythm/server/services/connection/internal/pubsub"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	"google.golang.org/protobuf/proto"
)

// counter is an Int64Counter that remembers its sum.
type counter struct {
	noop.Int64Counter
	n atomic.Int64
}

func (c *counter) Add(_ context.Context, v int64, _ ...metric.AddOption) { c.n.Add(v) }

func notesEvent(room string, note uint32) *pb.RoomEvent {
	return &pb.RoomEvent{RoomId: room, OriginInstance: "a", Event: &pb.RoomEvent_Notes{Notes: &pb.NoteBatch{
		Events: []*pb.NoteEvent{{Kind: pb.NoteKind_NOTE_ON, Note: note, Velocity: 90}}}}}
}

// heardNote is the note of the first batch a subscription receives.
func heardNote(t *testing.T, ch <-chan *redis.Message) uint32 {
	t.Helper()
	select {
	case m := <-ch:
		var ev pb.RoomEvent
		if err := proto.Unmarshal([]byte(m.Payload), &ev); err != nil {
			t.Fatal(err)
		}
		return ev.GetNotes().GetEvents()[0].GetNote()
	case <-time.After(5 * time.Second):
		t.Fatal("nothing heard")
	}
	return 0
}

// TestPublisherPublishesOnlyWhenAnotherInstanceListens: with only this
// instance subscribed to a room, its notes stay off Redis; once another
// instance subscribes and the room's membership changes (what onRedis
// sees when someone joins there), the next batch reaches it.
func TestPublisherPublishesOnlyWhenAnotherInstanceListens(t *testing.T) {
	rdb := storetest.Redis(t)
	prefix := storetest.Prefix(t)
	channel := pubsub.RoomChannel(prefix, "r1")
	ctx := context.Background()

	self := rdb.Subscribe(ctx, channel)
	defer self.Close()
	if _, err := self.Receive(ctx); err != nil { // the subscription's confirmation
		t.Fatal(err)
	}
	failed, dropped := &counter{}, &counter{}
	p := newPublisher(rdb, func() bool { return true }, slog.New(slog.DiscardHandler), failed, dropped)
	defer p.close()

	selfHeard := self.Channel()
	// One batch at a time: a batch still queued when the other instance
	// subscribes would be asked about afresh and rightly published.
	for range 3 {
		p.roomEvent(prefix, notesEvent("r1", 60))
		waitFor(t, func() bool { return p.alone(channel) })
	}

	other := rdb.Subscribe(ctx, channel)
	defer other.Close()
	if _, err := other.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	p.forget(channel) // a join announced on the room's channel
	p.roomEvent(prefix, notesEvent("r1", 61))
	if got := heardNote(t, other.Channel()); got != 61 {
		t.Fatalf("the other instance heard note %d, want 61", got)
	}
	// Had the batches played alone been published, this instance's
	// subscription would hear them first.
	if got := heardNote(t, selfHeard); got != 61 {
		t.Fatalf("published while alone: heard note %d first", got)
	}
	if failed.n.Load() != 0 || dropped.n.Load() != 0 {
		t.Fatalf("failed %d, dropped %d", failed.n.Load(), dropped.n.Load())
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestPublisherDropsAreCountedAndLoggedOncePerPeriod: under overload every
// dropped publish is counted, and an operator gets one line per period
// saying how many, not one per batch.
func TestPublisherDropsAreCountedAndLoggedOncePerPeriod(t *testing.T) {
	var logs logtest.Buffer
	dropped := &counter{}
	now := time.Unix(1000, 0)
	p := &publisher{drops: newDropLog(slog.New(slog.NewTextHandler(&logs, nil)), dropped, func() time.Time { return now })}
	for range 1000 {
		p.drops.Drop(1)
	}
	now = now.Add(dropLogPeriod / 2)
	for range 1000 {
		p.drops.Drop(1)
	}
	now = now.Add(dropLogPeriod)
	p.drops.Drop(1)
	if got := dropped.n.Load(); got != 2001 {
		t.Fatalf("counted %d drops, want 2001", got)
	}
	lines := logs.Lines()
	if len(lines) != 2 {
		t.Fatalf("%d log lines, want 2:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	if !strings.Contains(lines[0], "dropped=1") || !strings.Contains(lines[1], "dropped=2000") {
		t.Fatalf("log lines do not carry the counts:\n%s", strings.Join(lines, "\n"))
	}
}

// TestPublisherAsksAgainOncePerPeriod: once "only us" is stale, one event
// goes through to have it checked again; the others are still skipped.
func TestPublisherAsksAgainOncePerPeriod(t *testing.T) {
	now := time.Unix(1000, 0)
	p := &publisher{now: func() time.Time { return now }}
	p.listeners.Store("c", &listening{others: false, checked: now.UnixNano()})
	if !p.alone("c") {
		t.Fatal("fresh: not alone")
	}
	now = now.Add(listenersTTL)
	through := 0
	for range 100 {
		if !p.alone("c") {
			through++
		}
	}
	if through != 1 {
		t.Fatalf("%d events let through to recheck, want 1", through)
	}
	now = now.Add(listenersTTL)
	if p.alone("c") {
		t.Fatal("a period later, no event let through")
	}
}
