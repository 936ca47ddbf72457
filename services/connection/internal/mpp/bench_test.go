package mpp_test

import (
	"strings"
	"testing"

	"github.com/coder/websocket"
	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/connection/internal/mpp"
	"github.com/pianorhythm/server/services/connection/internal/mpp/mpptest"
	"google.golang.org/protobuf/encoding/protojson"
)

func noteBatch(n int) *pb.ServerMessage {
	nb := &pb.NoteBatch{UserId: "0190f1a2-7b3c-7def-8123-456789abcdef", Time: 1764230400123}
	for i := range n {
		kind := pb.NoteKind_NOTE_ON
		if i%2 == 1 {
			kind = pb.NoteKind_NOTE_OFF
		}
		nb.Events = append(nb.Events, &pb.NoteEvent{Kind: kind, Note: uint32(21 + i%88), Velocity: uint32(i % 128), DelayMs: uint32(i % 200)})
	}
	return &pb.ServerMessage{Payload: &pb.ServerMessage_Notes{Notes: nb}}
}

// The once-per-frame cost of a note batch for every MPP recipient, beside
// the JSON wire format's (protojson) for the same batch.
func BenchmarkEncodeNotes(b *testing.B) {
	for _, n := range []int{10, 300} {
		m := noteBatch(n)
		b.Run("mpp/"+itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := mpp.Encode(m); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("protojson/"+itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := protojson.Marshal(m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The per-sender cost of reading an MPP note frame.
func BenchmarkDecodeNotes(b *testing.B) {
	for _, n := range []int{10, 300} {
		notes := make([]mpptest.Note, n)
		keys := mpptest.Keys()
		for i := range notes {
			notes[i] = mpptest.Note{N: keys[i%88], V: mpptest.Velocity(i % 128), D: float64(i % 200)}
		}
		frame := mpptest.Frame(mpptest.Notes{T: 1764230400123, N: notes})
		b.Run(itoa(n), func(b *testing.B) {
			s := mpp.NewSession(mpp.Config{}, func([]byte) bool { return true })
			s.Decode(websocket.MessageText, mpptest.Frame(mpptest.Hi{}))
			b.ReportAllocs()
			b.SetBytes(int64(len(frame)))
			for b.Loop() {
				in, err := s.Decode(websocket.MessageText, frame)
				if err != nil || len(in.Messages) != 1 {
					b.Fatal(err)
				}
			}
		})
	}
}

// The per-recipient cost once the frame is encoded: the session's lock
// and the push.
func BenchmarkDeliverNotes(b *testing.B) {
	m := noteBatch(50)
	shared, _ := mpp.Encode(m)
	s := mpp.NewSession(mpp.Config{}, func([]byte) bool { return true })
	b.ReportAllocs()
	for b.Loop() {
		s.Deliver(m, shared)
	}
}

// A frame of the largest size refused quickly, whatever its shape.
func BenchmarkDecodeRefusedFrame(b *testing.B) {
	frame := []byte("[" + strings.Repeat(`{"m":"n","t":1,"n":[{"n":"zz"}]},`, 63) + `{"m":"x"}]`)
	s := mpp.NewSession(mpp.Config{}, func([]byte) bool { return true })
	s.Decode(websocket.MessageText, mpptest.Frame(mpptest.Hi{}))
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		if _, err := s.Decode(websocket.MessageText, frame); err == nil {
			b.Fatal("accepted")
		}
	}
}
