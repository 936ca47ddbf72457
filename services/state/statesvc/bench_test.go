package statesvc_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/state/statesvc"
)

// BenchmarkSaveChatMessage saves chat messages over gRPC on loopback from
// parallel clients, spread over 64 rooms: one Redis script per message plus
// the batched MongoDB archive write.
func BenchmarkSaveChatMessage(b *testing.B) {
	st := newStores(b)
	c := start(b, st, statesvc.Config{Now: time.Now}).client
	ctx := ctxT(b)
	const rooms = 64
	for i := range rooms {
		saveRoom(b, c, &pb.Room{Id: fmt.Sprint("bench-", i)})
		seat(b, c, fmt.Sprint("bench-", i), "alice")
	}
	var seq atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(p *testing.PB) {
		for p.Next() {
			n := seq.Add(1)
			_, err := c.SaveChatMessage(ctx, &pb.SaveChatMessageRequest{Message: &pb.ChatMessage{
				Id: fmt.Sprint("m-", n), RoomId: fmt.Sprint("bench-", n%rooms), UserId: "alice", DisplayName: "Alice", Text: "hello there",
			}})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "ops/s")
}

// BenchmarkAddUserToRoom joins members over gRPC on loopback from parallel
// clients: 20 users cycling over 64 rooms, so after the first round every
// join is a seat replacement (the full script: room, ban, maintenance,
// seat and presence checks in one Redis call).
func BenchmarkAddUserToRoom(b *testing.B) {
	st := newStores(b)
	c := start(b, st, statesvc.Config{Now: time.Now}).client
	ctx := ctxT(b)
	const rooms = 64
	for i := range rooms {
		saveRoom(b, c, &pb.Room{Id: fmt.Sprint("bench-", i)})
	}
	var seq atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(p *testing.PB) {
		for p.Next() {
			n := seq.Add(1)
			_, err := c.AddUserToRoom(ctx, &pb.AddUserToRoomRequest{
				RoomId: fmt.Sprint("bench-", (n/20)%rooms),
				Member: member(fmt.Sprint("user-", n%20), fmt.Sprint("conn-", n)),
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "ops/s")
}
