package mpp_test

import (
	"testing"

	"github.com/coder/websocket"
	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/connection/internal/mpp"
	"github.com/pianorhythm/server/services/connection/internal/mpp/mpptest"
	"google.golang.org/protobuf/proto"
)

// The whole keyboard, both ways, against the client's own key list.
func TestKeyboardMapsToMIDI(t *testing.T) {
	keys := mpptest.Keys()
	if len(keys) != 88 {
		t.Fatalf("the client's keyboard has %d keys", len(keys))
	}
	for i, key := range keys {
		midi := uint32(21 + i)
		t.Run(key, func(t *testing.T) {
			got, ok := mpp.MIDINote(key)
			if !ok || got != midi {
				t.Fatalf("MIDINote(%q) = %d, %v; want %d", key, got, ok, midi)
			}
			name, ok := mpp.NoteName(midi)
			if !ok || name != key {
				t.Fatalf("NoteName(%d) = %q, %v; want %q", midi, name, ok, key)
			}
		})
	}
	// Landmarks a pianist knows: A0, middle C, A440, C8.
	for key, midi := range map[string]uint32{"a-1": 21, "c3": 60, "a3": 69, "cs3": 61, "c7": 108} {
		if got, _ := mpp.MIDINote(key); got != midi {
			t.Errorf("%s = %d, want %d", key, got, midi)
		}
	}
}

func TestNotesOffTheKeyboard(t *testing.T) {
	for _, n := range []uint32{0, 20, 109, 127, 1000} {
		if name, ok := mpp.NoteName(n); ok {
			t.Errorf("MIDI %d has MPP name %q", n, name)
		}
	}
	for _, name := range []string{"", "c", "c8", "a-2", "db3", "C3", "cs-1", "b7", "c3 "} {
		if n, ok := mpp.MIDINote(name); ok {
			t.Errorf("%q maps to %d", name, n)
		}
	}
}

// Every MIDI velocity survives MPP and back; MPP velocities land on the
// nearest MIDI step and are clamped as MPP clients clamp them.
func TestVelocity(t *testing.T) {
	for k := uint32(0); k <= 127; k++ {
		v := mpp.MPPVelocity(k)
		if v < 0 || v > 1 {
			t.Fatalf("MPPVelocity(%d) = %v", k, v)
		}
		if back := mpp.MIDIVelocity(v); back != k {
			t.Fatalf("velocity %d -> %v -> %d", k, v, back)
		}
		// What the browser client sends for MIDI velocity k.
		if got := mpp.MIDIVelocity(*mpptest.Velocity(int(k))); got != k {
			t.Fatalf("browser velocity for %d decoded as %d", k, got)
		}
	}
	for _, tt := range []struct {
		v    float64
		want uint32
	}{{-1, 0}, {0, 0}, {0.5, 64}, {1, 127}, {1.7, 127}, {0.003, 0}, {0.004, 1}} {
		if got := mpp.MIDIVelocity(tt.v); got != tt.want {
			t.Errorf("MIDIVelocity(%v) = %d, want %d", tt.v, got, tt.want)
		}
	}
}

// A batch over the whole keyboard, played and released, goes from an MPP
// client to our protocol and from ours to an MPP listener unchanged.
func TestNotesRoundTripWholeKeyboard(t *testing.T) {
	s, w, _ := newSession(t, ann)
	var sent []mpptest.Note
	for i, key := range mpptest.Keys() {
		sent = append(sent,
			mpptest.Note{N: key, V: mpptest.Velocity(i + 20), D: float64(i)},
			mpptest.Note{N: key, S: 1, D: float64(i + 100)})
	}
	in, err := s.Decode(websocket.MessageText, mpptest.Frame(mpptest.Notes{T: 1764230400123.75, N: sent}))
	if err != nil || len(in.Messages) != 1 {
		t.Fatalf("decode: %v %v", in.Messages, err)
	}
	nb := in.Messages[0].GetNotes()
	if nb == nil || nb.GetTime() != 1764230400123 || len(nb.GetEvents()) != 176 {
		t.Fatalf("batch %v", in.Messages[0])
	}
	for i, e := range nb.GetEvents() {
		key := i / 2
		want := &pb.NoteEvent{Kind: pb.NoteKind_NOTE_ON, Note: uint32(21 + key), Velocity: uint32(key + 20), DelayMs: uint32(key)}
		if i%2 == 1 {
			want = &pb.NoteEvent{Kind: pb.NoteKind_NOTE_OFF, Note: uint32(21 + key), DelayMs: uint32(key + 100)}
		}
		if !proto.Equal(e, want) {
			t.Fatalf("event %d = %v, want %v", i, e, want)
		}
	}
	w.take(t)

	// Relayed to an MPP listener with the sender's id.
	nb.UserId = ann.GetId()
	deliver(t, s, &pb.ServerMessage{Payload: &pb.ServerMessage_Notes{Notes: nb}})
	var got mpptest.NotesFrom
	w.only(t, "n", &got)
	if got.P != ann.GetId() || got.T != 1764230400123 || len(got.N) != len(sent) {
		t.Fatalf("relayed %+v", got)
	}
	for i, n := range got.N {
		want := sent[i]
		if n.N != want.N || n.S != want.S || n.D != want.D || (want.V == nil) != (n.V == nil) || want.V != nil && *n.V != *want.V {
			t.Fatalf("note %d: got %+v, sent %+v", i, n, want)
		}
	}
}

// What MPP cannot hear is left out: the pedal, and keys MPP lacks.
func TestEncodeNotesDropsWhatMPPLacks(t *testing.T) {
	batch := func(events ...*pb.NoteEvent) *pb.ServerMessage {
		return &pb.ServerMessage{Payload: &pb.ServerMessage_Notes{Notes: &pb.NoteBatch{UserId: "u1", Time: 5, Events: events}}}
	}
	b, err := mpp.Encode(batch(
		&pb.NoteEvent{Kind: pb.NoteKind_SUSTAIN_ON},
		&pb.NoteEvent{Kind: pb.NoteKind_NOTE_ON, Note: 10, Velocity: 100},
		&pb.NoteEvent{Kind: pb.NoteKind_NOTE_ON, Note: 60, Velocity: 127, DelayMs: 40},
		&pb.NoteEvent{Kind: pb.NoteKind_NOTE_OFF, Note: 120},
		&pb.NoteEvent{Kind: pb.NoteKind_SUSTAIN_OFF, DelayMs: 80},
	))
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := mpptest.Parse(b)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("%s: %v", b, err)
	}
	var n mpptest.NotesFrom
	if err := msgs[0].Decode(&n); err != nil {
		t.Fatal(err)
	}
	if len(n.N) != 1 || n.N[0].N != "c3" || *n.N[0].V != 1 || n.N[0].D != 40 {
		t.Fatalf("got %+v", n.N)
	}
	// Nothing audible for MPP: no frame at all.
	b, err = mpp.Encode(batch(&pb.NoteEvent{Kind: pb.NoteKind_SUSTAIN_ON}, &pb.NoteEvent{Kind: pb.NoteKind_NOTE_ON, Note: 5}))
	if err != nil || b != nil {
		t.Fatalf("pedal-only batch encoded as %s (%v)", b, err)
	}
}
