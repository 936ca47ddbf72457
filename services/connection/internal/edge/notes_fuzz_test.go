package edge

import (
	"testing"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/rpc"
	"google.golang.org/protobuf/proto"
)

// FuzzValidateNotes: a note batch decoded from any bytes is accepted by
// validateNotes exactly when it keeps the limits of the protocol (DESIGN
// section 4: at most 300 events, note and velocity 0-127, delayMs 0-1000,
// one of the four kinds the protocol defines), and refused with
// INVALID_ARGUMENT otherwise, so no batch other clients could not play is
// fanned out to them. The seed corpus is testdata/fuzz/FuzzValidateNotes;
// its kind_5 and kind_99 seeds are the regression of undefined kinds,
// which were once let through and relayed to every member.
func FuzzValidateNotes(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		var nb pb.NoteBatch
		if proto.Unmarshal(data, &nb) != nil {
			return
		}
		err := validateNotes(&nb)
		if want := withinLimits(&nb); want != (err == nil) {
			t.Fatalf("validateNotes(%v) = %v, but the batch keeps the limits: %v", &nb, err, want)
		}
		if err != nil && !rpc.IsReason(err, pb.ErrorReason_INVALID_ARGUMENT) {
			t.Fatalf("refused with %v, want INVALID_ARGUMENT", err)
		}
	})
}

// withinLimits is the protocol's rule, written out on its own.
func withinLimits(nb *pb.NoteBatch) bool {
	if len(nb.GetEvents()) > 300 {
		return false
	}
	for _, e := range nb.GetEvents() {
		switch e.GetKind() {
		case pb.NoteKind_NOTE_ON, pb.NoteKind_NOTE_OFF, pb.NoteKind_SUSTAIN_ON, pb.NoteKind_SUSTAIN_OFF:
		default:
			return false
		}
		if e.GetNote() > 127 || e.GetVelocity() > 127 || e.GetDelayMs() > 1000 {
			return false
		}
	}
	return true
}

// TestValidateNotesKinds: the four defined kinds are played; a missing or
// undefined kind refuses the whole batch.
func TestValidateNotesKinds(t *testing.T) {
	tests := []struct {
		kind pb.NoteKind
		ok   bool
	}{
		{pb.NoteKind_NOTE_ON, true}, {pb.NoteKind_NOTE_OFF, true}, {pb.NoteKind_SUSTAIN_ON, true}, {pb.NoteKind_SUSTAIN_OFF, true},
		{pb.NoteKind_NOTE_KIND_UNSPECIFIED, false}, {5, false}, {99, false}, {-1, false},
	}
	for _, tt := range tests {
		t.Run(tt.kind.String(), func(t *testing.T) {
			nb := &pb.NoteBatch{Events: []*pb.NoteEvent{
				{Kind: pb.NoteKind_NOTE_ON, Note: 60, Velocity: 90},
				{Kind: tt.kind, Note: 62, Velocity: 90},
			}}
			if err := validateNotes(nb); (err == nil) != tt.ok {
				t.Fatalf("validateNotes(kind %v) = %v, want ok %v", tt.kind, err, tt.ok)
			}
		})
	}
}
