package track_test

import (
	"context"
	"testing"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/store/storetest"
	"github.com/pianorhythm/server/pkg/track"
)

// BenchmarkEmit measures the caller's cost of Emit (the write to Redis
// happens on the Emitter's goroutine; events beyond the buffer are dropped).
func BenchmarkEmit(b *testing.B) {
	c := storetest.Redis(b)
	e := track.NewEmitter(c, track.Config{Stream: storetest.Prefix(b) + "s", MaxLen: 1000})
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(p *testing.PB) {
		for p.Next() {
			e.Emit(ctx, &pb.Event{Type: pb.EventType_EVENT_TYPE_NOTES, UserId: "u", RoomId: "r", Count: 10})
		}
	})
	b.StopTimer()
	_ = e.Close(ctx)
	b.ReportMetric(float64(e.Dropped())/float64(b.N), "dropped/op")
}
