package track_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/store/storetest"
	"github.com/pianorhythm/server/pkg/track"
)

func TestNotesEmitOneEventPerConnectionPerFlush(t *testing.T) {
	rec := &track.Recorder{}
	// An hour: only explicit flushes emit in this test.
	notes := track.NewNotes(rec, track.NotesConfig{Interval: time.Hour})
	defer notes.Close(context.Background())

	a := notes.Counter("u1", "lobby", "c1")
	b := notes.Counter("u2", "lobby", "c2")
	idle := notes.Counter("u3", "lobby", "c3")
	defer idle.Close()
	var wg sync.WaitGroup
	for range 4 { // the edge's reader goroutines add concurrently
		wg.Go(func() {
			for range 10 {
				a.Add(1)
			}
		})
	}
	wg.Wait()
	b.Add(7)
	b.Add(0)
	b.Add(-3)

	notes.Flush()
	got := map[string]*pb.Event{}
	for _, ev := range rec.Take() {
		got[ev.GetConnectionId()] = ev
	}
	require.Len(t, got, 2, "one event per connection that played; none for the idle one")
	require.EqualValues(t, 40, got["c1"].GetCount())
	require.Equal(t, "u1", got["c1"].GetUserId())
	require.Equal(t, "lobby", got["c1"].GetRoomId())
	require.Equal(t, pb.EventType_EVENT_TYPE_NOTES, got["c1"].GetType())
	require.EqualValues(t, 7, got["c2"].GetCount())

	notes.Flush()
	require.Empty(t, rec.Take(), "nothing played since the last flush")

	a.Add(5)
	a.SetRoom("jazz")
	a.Add(2)
	evs := rec.Take()
	require.Len(t, evs, 1, "a room change emits the old room's count at once")
	require.Equal(t, "lobby", evs[0].GetRoomId())
	require.EqualValues(t, 5, evs[0].GetCount())

	a.Close()
	evs = rec.Take()
	require.Len(t, evs, 1, "close emits the last count")
	require.Equal(t, "jazz", evs[0].GetRoomId())
	require.EqualValues(t, 2, evs[0].GetCount())
	a.Add(9)
	a.Close()
	notes.Flush()
	b.Close()
	for _, ev := range rec.Take() {
		require.NotEqual(t, "c1", ev.GetConnectionId(), "a closed counter emits nothing more")
	}
}

func TestNotesCloseFlushesEveryConnection(t *testing.T) {
	rec := &track.Recorder{}
	notes := track.NewNotes(rec, track.NotesConfig{Interval: time.Hour})
	c := notes.Counter("u1", "lobby", "c1")
	c.Add(3)
	require.NoError(t, notes.Close(context.Background()))
	evs := rec.Take()
	require.Len(t, evs, 1)
	require.EqualValues(t, 3, evs[0].GetCount())
	c.Add(1)
	c.Close() // a counter outliving its Notes still emits its own last count
	evs = rec.Take()
	require.Len(t, evs, 1)
	require.EqualValues(t, 1, evs[0].GetCount())
	require.NoError(t, notes.Close(context.Background()), "second close")
}

// TestNotesReachTheStream runs the edge's path: a counter on a real
// Emitter, flushed by the Notes ticker, lands as one NOTES entry on the
// stream the analytics service reads.
func TestNotesReachTheStream(t *testing.T) {
	ctx := context.Background()
	c := storetest.Redis(t)
	stream := storetest.Prefix(t) + "analytics:events"
	em := track.NewEmitter(c, track.Config{Stream: stream})
	notes := track.NewNotes(em, track.NotesConfig{Interval: 20 * time.Millisecond})
	counter := notes.Counter("u1", "lobby", "c1")
	for range 40 {
		counter.Add(1)
	}
	require.Eventually(t, func() bool { return c.XLen(ctx, stream).Val() == 1 }, 10*time.Second, 10*time.Millisecond,
		"the ticker emits without a Close")
	counter.Close()
	require.NoError(t, notes.Close(ctx))
	require.NoError(t, em.Close(ctx))

	msgs, err := c.XRange(ctx, stream, "-", "+").Result()
	require.NoError(t, err)
	require.Len(t, msgs, 1, "40 notes, one event")
	ev := &pb.Event{}
	require.NoError(t, proto.Unmarshal([]byte(msgs[0].Values[track.FieldEvent].(string)), ev))
	require.EqualValues(t, 40, ev.GetCount())
	require.Equal(t, "c1", ev.GetConnectionId())
	require.NotEmpty(t, ev.GetId())
}

// BenchmarkNoteCounterAdd is the edge's cost per accepted note batch.
func BenchmarkNoteCounterAdd(b *testing.B) {
	notes := track.NewNotes(&track.Recorder{}, track.NotesConfig{Interval: time.Hour})
	defer notes.Close(context.Background())
	c := notes.Counter("u", "r", "c")
	b.ReportAllocs()
	b.RunParallel(func(p *testing.PB) {
		for p.Next() {
			c.Add(3)
		}
	})
}
