package mpp_test

import (
	"math"
	"regexp"
	"testing"
	"unicode/utf8"

	"github.com/coder/websocket"
	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/connection/internal/mpp"
	"github.com/pianorhythm/server/services/connection/internal/mpp/mpptest"
)

var knownIDs = regexp.MustCompile(`^(t|ch|n|a|m|userset|chset|chown|kickban|unban|\+ls|-ls)$`)

// FuzzDecode: whatever a client sends, the decoder does not panic, every
// refusal is one notification a client can read, and what it accepts keeps
// the limits of our protocol. The seed corpus is testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		w := &wire{}
		s := mpp.NewSession(mpp.Config{}, w.push)
		s.Deliver(welcome(ann, ""), nil)
		s.Decode(websocket.MessageText, []byte(`[{"m":"hi"}]`))
		w.take(t)

		in, err := s.Decode(websocket.MessageText, data)
		got := w.take(t)
		if err != nil {
			if len(got) != 1 || got[0].M != "notification" {
				t.Fatalf("refusal %v answered with %s", err, names(got))
			}
			var n mpptest.Notification
			if e := got[0].Decode(&n); e != nil || n.Text == "" {
				t.Fatalf("notification %s: %v", got[0].Raw, e)
			}
		} else if len(got) != 0 {
			t.Fatalf("accepted frame answered with %s", names(got))
		}
		for _, m := range in.Messages {
			checkLimits(t, m)
		}
	})
}

func checkLimits(t *testing.T, m *pb.ClientMessage) {
	t.Helper()
	if !knownIDs.MatchString(m.GetId()) {
		t.Fatalf("id %q", m.GetId())
	}
	switch p := m.GetPayload().(type) {
	case *pb.ClientMessage_Notes:
		if len(p.Notes.GetEvents()) > 300 || p.Notes.GetTime() < 0 {
			t.Fatalf("batch %v", p.Notes)
		}
		for _, e := range p.Notes.GetEvents() {
			if e.GetNote() < 21 || e.GetNote() > 108 || e.GetVelocity() > 127 || e.GetDelayMs() > 1000 ||
				(e.GetKind() != pb.NoteKind_NOTE_ON && e.GetKind() != pb.NoteKind_NOTE_OFF) {
				t.Fatalf("event %v", e)
			}
		}
	case *pb.ClientMessage_Chat:
		if txt := p.Chat.GetText(); !utf8.ValidString(txt) || txt == "" || utf8.RuneCountInString(txt) > 512 {
			t.Fatalf("chat %q", txt)
		}
	case *pb.ClientMessage_Join:
		if !roomIDPattern.MatchString(p.Join.GetRoom()) || utf8.RuneCountInString(p.Join.GetSettings().GetName()) > 64 {
			t.Fatalf("join %v", p.Join)
		}
	case *pb.ClientMessage_Cursor:
		if math.IsNaN(p.Cursor.GetX()) || math.IsInf(p.Cursor.GetX(), 0) || math.IsNaN(p.Cursor.GetY()) || math.IsInf(p.Cursor.GetY(), 0) {
			t.Fatalf("cursor %v", p.Cursor)
		}
	case *pb.ClientMessage_SetProfile:
		if p.SetProfile.Name != nil && (utf8.RuneCountInString(p.SetProfile.GetName()) > 40 || p.SetProfile.GetName() == "") {
			t.Fatalf("name %q", p.SetProfile.GetName())
		}
	case *pb.ClientMessage_Kick:
		if p.Kick.GetBanSeconds() < 0 || p.Kick.GetBanSeconds() > 3600 || p.Kick.GetUserId() == "" {
			t.Fatalf("kick %v", p.Kick)
		}
	case *pb.ClientMessage_RoomSettings:
		if mp := p.RoomSettings.GetSettings().MaxPlayers; mp != nil && (*mp < 0 || *mp > 99) {
			t.Fatalf("settings %v", p.RoomSettings)
		}
	case *pb.ClientMessage_Ping, *pb.ClientMessage_TransferOwner, *pb.ClientMessage_Unban, *pb.ClientMessage_WatchRooms:
	default:
		t.Fatalf("unexpected %T", p)
	}
}
