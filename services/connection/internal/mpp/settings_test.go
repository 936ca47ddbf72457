package mpp_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/coder/websocket"
	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/connection/internal/mpp"
	"github.com/pianorhythm/server/services/connection/internal/mpp/mpptest"
	"google.golang.org/protobuf/proto"
)

// Our room ids, as the room service accepts them.
var roomIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func TestChannelNamesAndRoomIDs(t *testing.T) {
	long := strings.Repeat("a long name ", 10)
	for _, name := range []string{"lobby", "lobby-2", "jam_session", "My Room", "✧𝓓𝓔𝓥 𝓡𝓸𝓸𝓶✧", "test/awkward", "lobby2 ", long} {
		t.Run(name, func(t *testing.T) {
			id := mpp.RoomID(name)
			if !roomIDPattern.MatchString(id) {
				t.Fatalf("RoomID(%q) = %q is not a room id", name, id)
			}
			if mpp.RoomID(name) != id || mpp.RoomID("  "+name+" ") != id {
				t.Fatal("not stable")
			}
			// The client joins what it is told the channel is called, so
			// the name sent back must lead to the same room.
			s, _, _ := newSession(t, ann)
			in, err := s.Decode(websocket.MessageText, mpptest.Frame(mpptest.Join{ID: name}))
			if err != nil {
				t.Fatal(err)
			}
			j := in.Messages[0].GetJoin()
			if j.GetRoom() != id {
				t.Fatalf("joins %q, want %q", j.GetRoom(), id)
			}
			created := &pb.Room{Id: j.GetRoom(), Settings: j.GetSettings()}
			back := mpp.ChannelName(created)
			if mpp.RoomID(back) != id {
				t.Fatalf("channel %q comes back as %q, which is room %q", name, back, mpp.RoomID(back))
			}
			if len([]rune(strings.TrimSpace(name))) <= 64 && back != strings.TrimSpace(name) {
				t.Fatalf("channel %q comes back as %q", name, back)
			}
		})
	}
	if mpp.RoomID("My Room") == mpp.RoomID("My room") {
		t.Fatal("different names share a room")
	}
	// A room of ours named anything keeps its id as its MPP name.
	r := &pb.Room{Id: "jam", Settings: &pb.RoomSettings{Name: proto.String("Friday Jam")}}
	if got := mpp.ChannelName(r); got != "jam" {
		t.Fatalf("ChannelName = %q", got)
	}
	r = &pb.Room{Id: "mpp-0123456789abcdef0123456789abcdef", Settings: &pb.RoomSettings{Name: proto.String("Not its name")}}
	if got := mpp.ChannelName(r); got != r.GetId() {
		t.Fatalf("a name that does not lead back to the room was used: %q", got)
	}
}

// MPP settings sent by a client come back the same when the channel is
// described to MPP clients (ls, ch); keys we cannot keep (color2, no
// cussing) do not.
func TestSettingsRoundTripFromMPP(t *testing.T) {
	tests := []mpptest.Settings{
		{Visible: mpptest.Bool(true), Chat: mpptest.Bool(true), Crownsolo: mpptest.Bool(false), Color: "#ecfaed", Limit: mpptest.Int(20)},
		{Visible: mpptest.Bool(false), Chat: mpptest.Bool(false), Crownsolo: mpptest.Bool(true), Color: "#000000", Limit: mpptest.Int(1)},
		{Visible: mpptest.Bool(true), Chat: mpptest.Bool(false), Crownsolo: mpptest.Bool(false), Color: "#abcdef", Limit: mpptest.Int(0)},
	}
	for _, set := range tests {
		s, _, _ := newSession(t, ann)
		in, err := s.Decode(websocket.MessageText, mpptest.Frame(mpptest.ChSet{Set: set}))
		if err != nil {
			t.Fatal(err)
		}
		r := &pb.Room{Id: "jam", Settings: in.Messages[0].GetRoomSettings().GetSettings()}
		got := listed(t, r)
		if *got.Settings.Visible != *set.Visible || *got.Settings.Chat != *set.Chat || *got.Settings.Crownsolo != *set.Crownsolo ||
			got.Settings.Color != set.Color || (*set.Limit != 0 && got.Settings.Limit.String() != itoa(*set.Limit)) {
			t.Fatalf("sent %+v, described as %+v", set, got.Settings)
		}
	}
}

// Our settings, as MPP shows them and as an MPP client's chset sends them
// back (the MPP browser resends what it was shown), are unchanged where
// MPP has them.
func TestSettingsRoundTripFromOurs(t *testing.T) {
	for _, st := range []*pb.RoomSettings{
		{Public: proto.Bool(true), OnlyOwnerCanChat: proto.Bool(false), OnlyOwnerCanPlay: proto.Bool(false), Color: proto.String("#112233"), MaxPlayers: proto.Int32(20)},
		{Public: proto.Bool(false), OnlyOwnerCanChat: proto.Bool(true), OnlyOwnerCanPlay: proto.Bool(true), Color: proto.String("#ffffff"), MaxPlayers: proto.Int32(5)},
	} {
		shown := listed(t, &pb.Room{Id: "jam", Settings: st})
		limit, _ := shown.Settings.Limit.Int64()
		resend := mpptest.Settings{Visible: shown.Settings.Visible, Chat: shown.Settings.Chat, Crownsolo: shown.Settings.Crownsolo,
			Color: shown.Settings.Color, Color2: shown.Settings.Color2, Limit: mpptest.Int(int(limit))}
		s, _, _ := newSession(t, ann)
		in, err := s.Decode(websocket.MessageText, mpptest.Frame(mpptest.ChSet{Set: resend}))
		if err != nil {
			t.Fatal(err)
		}
		if got := in.Messages[0].GetRoomSettings().GetSettings(); !proto.Equal(got, st) {
			t.Fatalf("ours %v came back as %v", st, got)
		}
	}
	// What MPP cannot show stays out of what it is shown.
	r := &pb.Room{Id: "pro", HasPassword: true, Settings: &pb.RoomSettings{ProOnly: proto.Bool(true), AllowGuests: proto.Bool(false),
		WelcomeMessage: proto.String("hello"), Maintenance: proto.Bool(true)}}
	if shown := listed(t, r); shown.Settings.Color == "" {
		t.Fatal("a room without a color still needs one for MPP")
	}
	b, err := mpp.Encode(&pb.ServerMessage{Payload: &pb.ServerMessage_RoomList{RoomList: &pb.RoomList{Rooms: []*pb.Room{r}}}})
	if err != nil {
		t.Fatal(err)
	}
	var raw []struct {
		U []struct {
			Settings map[string]any `json:"settings"`
		} `json:"u"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	for key := range raw[0].U[0].Settings {
		switch key {
		case "visible", "chat", "crownsolo", "color", "color2", "limit", "lobby":
		default:
			t.Errorf("MPP is shown a setting it does not have: %q", key)
		}
	}
}

// listed is how r appears in the channel list an MPP client reads.
func listed(t *testing.T, r *pb.Room) mpptest.ChannelInfo {
	t.Helper()
	var ls mpptest.List
	encodeOne(t, &pb.ServerMessage{Payload: &pb.ServerMessage_RoomList{RoomList: &pb.RoomList{Rooms: []*pb.Room{r}}}}, "ls", &ls)
	if len(ls.U) != 1 || ls.U[0].Settings == nil {
		t.Fatalf("ls %+v", ls)
	}
	return ls.U[0]
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }
