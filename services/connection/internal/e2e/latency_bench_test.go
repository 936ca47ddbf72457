package e2e

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/connection/connsvc"
	"github.com/pianorhythm/server/services/connection/internal/codec"
	"github.com/pianorhythm/server/services/connection/internal/mpp/mpptest"
	"google.golang.org/protobuf/proto"
)

// BenchmarkNoteLatency measures how long a note batch takes from a
// sender's socket to a listener's, on /ws and /mpp side by side in one
// room of one edge (real sockets on loopback, the real services behind):
// a /ws sender and an /mpp sender, a /ws listener and an /mpp listener.
// Each iteration is one batch (3 keys struck, 1 released) from each
// sender, sent once the one before was heard by both listeners; the
// percentiles of send to receive are reported per path (sender format to
// listener format), in microseconds. They include the test clients' own
// decoding (protobuf for /ws, JSON for /mpp), as a real client's would.
func BenchmarkNoteLatency(b *testing.B) {
	w := newWorld(b)
	// A refill every millisecond keeps the senders under their quota.
	e := w.edge(connsvc.Config{QuotaRefill: time.Millisecond})
	wsSend := e.dial(b, codec.Proto, "")
	wsSend.join("latency", true)
	mppSend := e.dialMPP(b, "")
	mppSend.join("latency")
	wsHear := e.dial(b, codec.Proto, "")
	wsHear.join("latency", false)
	mppHear := e.dialMPP(b, "")
	mppHear.join("latency")
	mppHear.sync(nil) // every arrival is announced before the first batch
	wsHear.quietFor(func(*pb.ServerMessage) bool { return false })

	// base is the first batch time; a batch's time is base + its number,
	// which both formats carry (notes.time, n.t), so a listener knows which
	// batch it heard.
	base := time.Now().UnixMilli()
	type heard struct {
		to   string // the listener's format
		from string // the sender's user id
		seq  int64
		at   time.Time
	}
	got := make(chan heard, 16)
	ctx, cancel := context.WithCancel(context.Background())
	var readers sync.WaitGroup
	readers.Go(func() {
		for {
			_, data, err := wsHear.ws.Read(ctx)
			if err != nil {
				return
			}
			at := time.Now()
			var m pb.ServerMessage
			if proto.Unmarshal(data, &m) == nil && m.GetNotes() != nil {
				got <- heard{"ws", m.GetNotes().GetUserId(), m.GetNotes().GetTime() - base, at}
			}
		}
	})
	readers.Go(func() {
		for {
			r, err := mppHear.c.Next(ctx)
			if err != nil {
				return
			}
			at := time.Now()
			var n mpptest.NotesFrom
			if r.M == "n" && r.Decode(&n) == nil {
				got <- heard{"mpp", n.P, int64(n.T) - base, at}
			}
		}
	})
	// The senders hear each other: drained, so their queues never fill.
	readers.Go(func() {
		for {
			if _, _, err := wsSend.ws.Read(ctx); err != nil {
				return
			}
		}
	})
	readers.Go(func() {
		for {
			if _, err := mppSend.c.Next(ctx); err != nil {
				return
			}
		}
	})
	defer func() {
		cancel()
		readers.Wait()
	}()

	wsBatch := func(seq int64) []byte {
		m, _ := proto.Marshal(&pb.ClientMessage{Payload: &pb.ClientMessage_Notes{Notes: &pb.NoteBatch{Time: base + seq, Events: []*pb.NoteEvent{
			{Kind: pb.NoteKind_NOTE_ON, Note: 60, Velocity: 90}, {Kind: pb.NoteKind_NOTE_ON, Note: 64, Velocity: 90},
			{Kind: pb.NoteKind_NOTE_ON, Note: 67, Velocity: 90}, {Kind: pb.NoteKind_NOTE_OFF, Note: 60},
		}}}})
		return m
	}
	mppBatch := func(seq int64) []byte {
		v := mpptest.Velocity(90)
		return mpptest.Frame(mpptest.Notes{T: float64(base + seq), N: []mpptest.Note{
			{N: "c3", V: v}, {N: "e3", V: v}, {N: "g3", V: v}, mpptest.Stop("c3")}})
	}
	senders := []struct {
		name string
		id   string
		typ  websocket.MessageType
		conn *websocket.Conn
		make func(int64) []byte
	}{
		{"ws", wsSend.id(), websocket.MessageBinary, wsSend.ws, wsBatch},
		{"mpp", mppSend.id(), websocket.MessageText, mppSend.c.Conn(), mppBatch},
	}
	lat := map[string][]time.Duration{}
	b.ResetTimer()
	for i := range b.N {
		for k, s := range senders {
			seq := int64(i*len(senders) + k)
			frame := s.make(seq)
			sent := time.Now()
			if err := s.conn.Write(context.Background(), s.typ, frame); err != nil {
				b.Fatal(err)
			}
			for range 2 { // each listener once
				select {
				case h := <-got:
					if h.from != s.id || h.seq != seq {
						b.Fatalf("heard batch %d of %s while waiting for %d of %s", h.seq, h.from, seq, s.id)
					}
					path := s.name + "-" + h.to
					lat[path] = append(lat[path], h.at.Sub(sent))
				case <-time.After(10 * time.Second):
					b.Fatalf("batch %d of the %s sender not heard", seq, s.name)
				}
			}
		}
	}
	b.StopTimer()
	for _, path := range []string{"ws-ws", "mpp-mpp", "mpp-ws", "ws-mpp"} {
		d := lat[path]
		slices.Sort(d)
		p50, p99 := d[len(d)/2], d[min(len(d)-1, len(d)*99/100)]
		b.ReportMetric(float64(p50.Microseconds()), path+"-p50-us")
		b.ReportMetric(float64(p99.Microseconds()), path+"-p99-us")
		b.Logf("%s: %d batches, median %v, p99 %v", path, len(d), p50, p99)
	}
}
