package e2e

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/connection/connsvc"
	"github.com/pianorhythm/server/services/connection/internal/codec"
	"google.golang.org/protobuf/proto"
)

// BenchmarkRoomFanout: one sender, a 20-member room, real sockets on
// loopback. Each iteration is one note batch (4 events) heard by the 19
// other members; deliveries/s counts frames received by them. Allocations
// are those of the whole process (server and the 20 test clients).
func BenchmarkRoomFanout(b *testing.B) {
	w := newWorld(b)
	// Admins are unlimited; a long refill would throttle the sender, so the
	// benchmark uses a short one instead of an admin account.
	e := w.edge(connsvc.Config{QuotaRefill: time.Millisecond})
	sender := e.dial(b, codec.Proto, "")
	sender.join("bench", true)
	const members = 20
	listeners := make([]*client, members-1)
	for i := range listeners {
		listeners[i] = e.dial(b, codec.Proto, "")
		listeners[i].join("bench", false)
	}
	msg, _ := proto.Marshal(&pb.ClientMessage{Payload: &pb.ClientMessage_Notes{Notes: &pb.NoteBatch{Time: 1, Events: []*pb.NoteEvent{
		{Kind: pb.NoteKind_NOTE_ON, Note: 60, Velocity: 90}, {Kind: pb.NoteKind_NOTE_ON, Note: 64, Velocity: 90},
		{Kind: pb.NoteKind_NOTE_ON, Note: 67, Velocity: 90}, {Kind: pb.NoteKind_NOTE_OFF, Note: 60},
	}}}})

	var wg sync.WaitGroup
	var received atomic.Int64
	start := make(chan int)
	for _, l := range listeners {
		wg.Go(func() {
			n := <-start
			buf := make([]byte, 0, 4096)
			got := 0
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			for got < n {
				_, r, err := l.ws.Reader(ctx)
				if err != nil {
					b.Error(err)
					return
				}
				buf = buf[:0]
				for {
					if len(buf) == cap(buf) {
						buf = append(buf, 0)[:len(buf)]
					}
					k, err := r.Read(buf[len(buf):cap(buf)])
					buf = buf[:len(buf)+k]
					if err != nil {
						break
					}
				}
				// Count note frames only (proto field 14).
				if len(buf) > 0 && buf[0] == 14<<3|2 {
					got++
					received.Add(1)
				}
			}
		})
	}
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for range members - 1 {
		start <- b.N
	}
	ctx := context.Background()
	// Windows of batches keep the benchmark closed-loop: an open loop would
	// only measure how fast queues overflow (and slow clients get closed).
	const window = 64
	for sent := 0; sent < b.N; {
		n := min(window, b.N-sent)
		for range n {
			if err := sender.ws.Write(ctx, codec.Proto.MessageType(), msg); err != nil {
				b.Fatal(err)
			}
		}
		sent += n
		for received.Load() < int64(sent)*(members-1) && !b.Failed() {
			time.Sleep(50 * time.Microsecond)
		}
	}
	wg.Wait()
	b.StopTimer()
	runtime.ReadMemStats(&after)
	deliveries := float64(b.N) * (members - 1)
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/deliveries, "allocs/delivery")
	b.ReportMetric(deliveries/b.Elapsed().Seconds(), "deliveries/s")
}
