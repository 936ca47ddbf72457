package mpp_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/connection/internal/mpp"
	"github.com/pianorhythm/server/services/connection/internal/mpp/mpptest"
	"google.golang.org/protobuf/proto"
)

func msg(id string, m *pb.ClientMessage) *pb.ClientMessage {
	m.Id = id
	return m
}

// What a real MPP client sends becomes the client message of ours that
// does the same.
func TestDecodeClientMessages(t *testing.T) {
	tests := []struct {
		name string
		send []byte
		want []*pb.ClientMessage
	}{
		{"time sync", mpptest.Frame(mpptest.Ping{E: mpptest.Float(1627972519126)}),
			[]*pb.ClientMessage{msg("t", &pb.ClientMessage{Payload: &pb.ClientMessage_Ping{Ping: &pb.Ping{ClientTime: 1627972519126}}})}},
		{"time sync without e", mpptest.Frame(mpptest.Ping{}),
			[]*pb.ClientMessage{msg("t", &pb.ClientMessage{Payload: &pb.ClientMessage_Ping{Ping: &pb.Ping{}}})}},
		{"join the lobby", mpptest.Frame(mpptest.Join{ID: "lobby"}),
			[]*pb.ClientMessage{msg("ch", &pb.ClientMessage{Payload: &pb.ClientMessage_Join{Join: &pb.Join{
				Room: "lobby", Create: true, Settings: &pb.RoomSettings{}}}})}},
		{"create a channel with settings", mpptest.Frame(mpptest.Join{ID: "My Room", Set: &mpptest.Settings{
			Visible: mpptest.Bool(false), Chat: mpptest.Bool(false), Crownsolo: mpptest.Bool(true),
			Color: "#0066FF", Color2: "#000000", Limit: mpptest.Int(12), NoCussing: mpptest.Bool(true)}}),
			[]*pb.ClientMessage{msg("ch", &pb.ClientMessage{Payload: &pb.ClientMessage_Join{Join: &pb.Join{
				Room: mpp.RoomID("My Room"), Create: true, Settings: &pb.RoomSettings{
					Name: proto.String("My Room"), Public: proto.Bool(false), OnlyOwnerCanChat: proto.Bool(true),
					OnlyOwnerCanPlay: proto.Bool(true), Color: proto.String("#0066ff"), MaxPlayers: proto.Int32(12)}}}})}},
		{"notes", mpptest.Frame(mpptest.Notes{T: 1627971516894, N: []mpptest.Note{
			mpptest.Start("c3", 0.75), {N: "c3", D: 100, S: 1}, {N: "a-1"}}}),
			[]*pb.ClientMessage{msg("n", &pb.ClientMessage{Payload: &pb.ClientMessage_Notes{Notes: &pb.NoteBatch{
				Time: 1627971516894, Events: []*pb.NoteEvent{
					{Kind: pb.NoteKind_NOTE_ON, Note: 60, Velocity: 95},
					{Kind: pb.NoteKind_NOTE_OFF, Note: 60, DelayMs: 100},
					{Kind: pb.NoteKind_NOTE_ON, Note: 21, Velocity: 64},
				}}}})}},
		{"chat", mpptest.Frame(mpptest.Say{Message: "Hello :D", ReplyTo: "9ad74fe6"}),
			[]*pb.ClientMessage{msg("a", &pb.ClientMessage{Payload: &pb.ClientMessage_Chat{Chat: &pb.ChatSend{Text: "Hello :D"}}})}},
		{"cursor as the browser sends it", mpptest.Frame(mpptest.Move{X: "50.30", Y: "26.49"}),
			[]*pb.ClientMessage{msg("m", &pb.ClientMessage{Payload: &pb.ClientMessage_Cursor{Cursor: &pb.Cursor{X: 50.3, Y: 26.49}}})}},
		{"cursor from a script", mpptest.Frame(mpptest.Move{X: -25, Y: 163.5}),
			[]*pb.ClientMessage{msg("m", &pb.ClientMessage{Payload: &pb.ClientMessage_Cursor{Cursor: &pb.Cursor{X: -25, Y: 163.5}}})}},
		{"userset", mpptest.Frame(mpptest.UserSet{Set: mpptest.UserFields{Name: "Lapis", Color: "#FF8FF9"}}),
			[]*pb.ClientMessage{msg("userset", &pb.ClientMessage{Payload: &pb.ClientMessage_SetProfile{SetProfile: &pb.SetProfile{
				Name: proto.String("Lapis"), Color: proto.String("#ff8ff9")}}})}},
		{"userset color only, short form", mpptest.Frame(mpptest.UserSet{Set: mpptest.UserFields{Color: "#f0a"}}),
			[]*pb.ClientMessage{msg("userset", &pb.ClientMessage{Payload: &pb.ClientMessage_SetProfile{SetProfile: &pb.SetProfile{
				Color: proto.String("#ff00aa")}}})}},
		{"chset changes only what it names", mpptest.Frame(mpptest.ChSet{Set: mpptest.Settings{Crownsolo: mpptest.Bool(false), Lobby: mpptest.Bool(true)}}),
			[]*pb.ClientMessage{msg("chset", &pb.ClientMessage{Payload: &pb.ClientMessage_RoomSettings{RoomSettings: &pb.RoomSettingsChange{
				Settings: &pb.RoomSettings{OnlyOwnerCanPlay: proto.Bool(false)}}}})}},
		{"chown to someone", mpptest.Frame(mpptest.Chown{ID: "u-bob"}),
			[]*pb.ClientMessage{msg("chown", &pb.ClientMessage{Payload: &pb.ClientMessage_TransferOwner{TransferOwner: &pb.TransferOwner{UserId: "u-bob"}}})}},
		{"chown to oneself picks up the crown", mpptest.Frame(mpptest.Chown{ID: ann.GetId()}),
			[]*pb.ClientMessage{msg("chown", &pb.ClientMessage{Payload: &pb.ClientMessage_TransferOwner{TransferOwner: &pb.TransferOwner{}}})}},
		{"kickban", mpptest.Frame(mpptest.Kickban{ID: "u-bob", Ms: 300000}),
			[]*pb.ClientMessage{msg("kickban", &pb.ClientMessage{Payload: &pb.ClientMessage_Kick{Kick: &pb.Kick{UserId: "u-bob", BanSeconds: 300}}})}},
		{"kickban 0 ms is a kick", mpptest.Frame(mpptest.Kickban{ID: "u-bob"}),
			[]*pb.ClientMessage{msg("kickban", &pb.ClientMessage{Payload: &pb.ClientMessage_Kick{Kick: &pb.Kick{UserId: "u-bob"}}})}},
		{"a short ban is still a ban", mpptest.Frame(mpptest.Kickban{ID: "u-bob", Ms: 500}),
			[]*pb.ClientMessage{msg("kickban", &pb.ClientMessage{Payload: &pb.ClientMessage_Kick{Kick: &pb.Kick{UserId: "u-bob", BanSeconds: 1}}})}},
		{"unban", mpptest.Frame(mpptest.Unban{ID: "u-bob"}),
			[]*pb.ClientMessage{msg("unban", &pb.ClientMessage{Payload: &pb.ClientMessage_Unban{Unban: &pb.Unban{UserId: "u-bob"}}})}},
		{"+ls and -ls", mpptest.Frame(mpptest.ListOn{}, mpptest.ListOff{}),
			[]*pb.ClientMessage{
				msg("+ls", &pb.ClientMessage{Payload: &pb.ClientMessage_WatchRooms{WatchRooms: &pb.WatchRooms{Watch: true}}}),
				msg("-ls", &pb.ClientMessage{Payload: &pb.ClientMessage_WatchRooms{WatchRooms: &pb.WatchRooms{}}}),
			}},
		{"devices and custom subscriptions are ignored", []byte(`[{"m":"devices","list":[{"type":"input","name":"loopMIDI"}]},{"m":"+custom"},{"m":"-custom"}]`), nil},
		{"several in one frame, in order", mpptest.Frame(mpptest.Join{ID: "lobby"}, mpptest.Say{Message: "hi all"}),
			[]*pb.ClientMessage{
				msg("ch", &pb.ClientMessage{Payload: &pb.ClientMessage_Join{Join: &pb.Join{Room: "lobby", Create: true, Settings: &pb.RoomSettings{}}}}),
				msg("a", &pb.ClientMessage{Payload: &pb.ClientMessage_Chat{Chat: &pb.ChatSend{Text: "hi all"}}}),
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, w, _ := newSession(t, ann)
			in, err := s.Decode(websocket.MessageText, tt.send)
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if len(in.Messages) != len(tt.want) {
				t.Fatalf("got %v, want %v", in.Messages, tt.want)
			}
			for i := range tt.want {
				if !proto.Equal(in.Messages[i], tt.want[i]) {
					t.Fatalf("message %d: got %v, want %v", i, in.Messages[i], tt.want[i])
				}
			}
			if got := w.take(t); len(got) != 0 {
				t.Fatalf("answered %s", names(got))
			}
		})
	}
}

// Bad input is refused with a notification that says why; what else the
// frame holds still goes through, and nothing panics.
func TestDecodeRefusals(t *testing.T) {
	long := strings.Repeat("x", 513)
	tests := []struct {
		name string
		typ  websocket.MessageType
		send string
		// reason is part of the notification's text.
		reason string
		// kept is how many messages of the frame still go through.
		kept int
	}{
		{"binary frame", websocket.MessageBinary, `[{"m":"t"}]`, "binary frames", 0},
		{"not json", websocket.MessageText, `[{"m":"t"`, "must be JSON", 0},
		{"not an array", websocket.MessageText, `{"m":"t"}`, "array of messages", 0},
		{"invalid utf-8", websocket.MessageText, "[{\"m\":\"a\",\"message\":\"h\xffi\"}]", "UTF-8", 0},
		{"too many messages", websocket.MessageText, "[" + strings.Repeat(`{"m":"t"},`, 64) + `{"m":"t"}]`, "at most 64 messages", 0},
		{"too big", websocket.MessageText, `[{"m":"a","message":"` + strings.Repeat("y", 70000) + `"}]`, "at most 65536 bytes", 0},
		{"message not an object", websocket.MessageText, `[1,{"m":"t"}]`, "message 1 is not an object", 1},
		{"no m", websocket.MessageText, `[{"x":1},{"m":"t"}]`, "message 1 has no string m", 1},
		{"m not a string", websocket.MessageText, `[{"m":5}]`, "no string m", 0},
		{"unknown m", websocket.MessageText, `[{"m":"fly"},{"m":"t"}]`, `fly: unknown message`, 1},
		{"wrong type", websocket.MessageText, `[{"m":"a","message":12}]`, "message must be a string, not number", 0},
		{"number that is not", websocket.MessageText, `[{"m":"t","e":"soon"}]`, `"soon" is not a number`, 0},
		{"notes without time", websocket.MessageText, `[{"m":"n","n":[]}]`, "t (the batch time) and n (the notes) are required", 0},
		{"notes not an array", websocket.MessageText, `[{"m":"n","t":1,"n":"c3"}]`, "n must be an array", 0},
		{"unknown key", websocket.MessageText, `[{"m":"n","t":1,"n":[{"n":"c3","v":1},{"n":"h9"}]}]`, `note 2: "h9" is not a key`, 0},
		{"delay over our limit", websocket.MessageText, `[{"m":"n","t":1,"n":[{"n":"c3","d":1500}]}]`, "d must be 0-1000 ms", 0},
		{"negative delay", websocket.MessageText, `[{"m":"n","t":1,"n":[{"n":"c3","d":-5}]}]`, "d must be 0-1000 ms", 0},
		{"bad velocity", websocket.MessageText, `[{"m":"n","t":1,"n":[{"n":"c3","v":true}]}]`, "true is not a number", 0},
		{"over 300 notes", websocket.MessageText, `[{"m":"n","t":1,"n":[` + strings.TrimSuffix(strings.Repeat(`{"n":"c3"},`, 301), ",") + `]}]`, "at most 300 notes", 0},
		{"time out of range", websocket.MessageText, `[{"m":"n","t":-5,"n":[]}]`, "t must be a time", 0},
		{"chat too long", websocket.MessageText, `[{"m":"a","message":"` + long + `"},{"m":"t"}]`, "at most 512 characters", 1},
		{"empty chat", websocket.MessageText, `[{"m":"a","message":"   "}]`, "must not be empty", 0},
		{"chat with a line break", websocket.MessageText, `[{"m":"a","message":"a\nb"}]`, `must not contain '\n'`, 0},
		{"chat missing", websocket.MessageText, `[{"m":"a"}]`, "message is missing", 0},
		{"channel without name", websocket.MessageText, `[{"m":"ch"}]`, "_id (the channel name) is missing", 0},
		{"channel name too long", websocket.MessageText, `[{"m":"ch","_id":"` + strings.Repeat("r", 512) + `"}]`, "at most 511 characters", 0},
		{"channel settings of the wrong type", websocket.MessageText, `[{"m":"ch","_id":"x","set":{"visible":"maybe"}}]`, `"maybe" is not true or false`, 0},
		{"channel limit out of range", websocket.MessageText, `[{"m":"chset","set":{"limit":150}}]`, "limit must be a whole number 0-99", 0},
		{"bad color", websocket.MessageText, `[{"m":"chset","set":{"color":"red"}}]`, "color must be #rrggbb", 0},
		{"chset without set", websocket.MessageText, `[{"m":"chset"}]`, "set is missing", 0},
		{"userset nothing", websocket.MessageText, `[{"m":"userset","set":{}}]`, "set needs a name or a color", 0},
		{"userset name too long", websocket.MessageText, `[{"m":"userset","set":{"name":"` + strings.Repeat("n", 41) + `"}}]`, "at most 40 characters", 0},
		{"userset bad color", websocket.MessageText, `[{"m":"userset","set":{"color":"#12345g"}}]`, "color must be #rrggbb", 0},
		{"chown drop", websocket.MessageText, `[{"m":"chown"}]`, "dropping the crown is not supported", 0},
		{"kickban too long", websocket.MessageText, `[{"m":"kickban","_id":"u-bob","ms":3600001}]`, "ms must be 0-3600000", 0},
		{"kickban without user", websocket.MessageText, `[{"m":"kickban","ms":1000}]`, "_id (the user) and ms (the ban) are required", 0},
		{"unban without user", websocket.MessageText, `[{"m":"unban"}]`, "_id (the user) is required", 0},
		{"cursor without y", websocket.MessageText, `[{"m":"m","x":1}]`, "x and y are required", 0},
		{"dm", websocket.MessageText, `[{"m":"dm","_id":"u-bob","message":"psst"}]`, "direct messages are not supported", 0},
		{"custom", websocket.MessageText, `[{"m":"custom","data":1,"target":{"mode":"subscribed"}}]`, "custom messages are not supported", 0},
		{"hi token not a string", websocket.MessageText, `[{"m":"hi","token":5}]`, "token must be a string", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, w, _ := newSession(t, ann)
			in, err := s.Decode(tt.typ, []byte(tt.send))
			if err == nil {
				t.Fatalf("accepted: %v", in.Messages)
			}
			var me *mpp.Error
			if !errors.As(err, &me) {
				t.Fatalf("error %v is not an *mpp.Error", err)
			}
			if len(in.Messages) != tt.kept {
				t.Fatalf("kept %v, want %d messages", in.Messages, tt.kept)
			}
			var n mpptest.Notification
			w.only(t, "notification", &n)
			if !strings.Contains(n.Text, tt.reason) || n.Duration <= 0 {
				t.Fatalf("notification %+v does not say %q", n, tt.reason)
			}
		})
	}
}

// Before hi nothing but hi (and devices) is handled, as on MPP servers;
// after bye nothing more is read.
func TestDecodeHiFirstAndBye(t *testing.T) {
	w := &wire{}
	s := mpp.NewSession(mpp.Config{}, w.push)
	in, err := s.Decode(websocket.MessageText, []byte(`[{"m":"devices","list":[]},{"m":"ch","_id":"lobby"}]`))
	if err == nil || len(in.Messages) != 0 {
		t.Fatalf("ch before hi: %v %v", in.Messages, err)
	}
	var n mpptest.Notification
	w.only(t, "notification", &n)
	if !strings.Contains(n.Text, "send hi first") {
		t.Fatalf("notification %+v", n)
	}

	// hi and ch in one frame: the ch counts.
	in, err = s.Decode(websocket.MessageText, mpptest.Frame(mpptest.Hi{Token: "tok"}, mpptest.Join{ID: "lobby"}))
	if err != nil || !in.Hello || in.Token != "tok" || len(in.Messages) != 1 || in.Messages[0].GetJoin() == nil {
		t.Fatalf("hi+ch: %+v %v", in, err)
	}
	// A second hi is ignored.
	in, err = s.Decode(websocket.MessageText, mpptest.Frame(mpptest.Hi{Token: "other"}))
	if err != nil || in.Hello || in.Token != "" {
		t.Fatalf("second hi: %+v %v", in, err)
	}

	in, err = s.Decode(websocket.MessageText, mpptest.Frame(mpptest.Say{Message: "last words"}, mpptest.Bye{}, mpptest.Say{Message: "never"}))
	if err != nil || !in.Bye || len(in.Messages) != 1 || in.Messages[0].GetChat().GetText() != "last words" {
		t.Fatalf("bye: %+v %v", in, err)
	}
}

// Cursors over the rate are dropped silently; the rate refills with time.
func TestDecodeCursorRate(t *testing.T) {
	s, w, clk := newSession(t, ann)
	moves := make([]mpptest.Message, 30)
	for i := range moves {
		moves[i] = mpptest.Move{X: i, Y: i}
	}
	in, err := s.Decode(websocket.MessageText, mpptest.Frame(moves...))
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Messages) != 10 {
		t.Fatalf("a burst of 30 let %d through, want 10 (the burst)", len(in.Messages))
	}
	if got := w.take(t); len(got) != 0 {
		t.Fatalf("dropping cursors answered %s", names(got))
	}
	clk.add(500 * time.Millisecond) // half a second: 10 more at 20 per second
	in, _ = s.Decode(websocket.MessageText, mpptest.Frame(moves...))
	if len(in.Messages) != 10 {
		t.Fatalf("after 500 ms %d went through, want 10", len(in.Messages))
	}
	// A browser's pace (one every 50 ms) is never dropped.
	for i := range 100 {
		clk.add(50 * time.Millisecond)
		in, _ = s.Decode(websocket.MessageText, mpptest.Frame(mpptest.Move{X: i, Y: 1}))
		if len(in.Messages) != 1 {
			t.Fatalf("cursor %d at 20 per second dropped", i)
		}
	}
}
