package codec

import (
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"
	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/connection/internal/mpp/mpptest"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

func TestDecodeClientJSON(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want *pb.ClientMessage
	}{
		{"join", `{"id":"1","join":{"room":"lobby"}}`,
			&pb.ClientMessage{Id: "1", Payload: &pb.ClientMessage_Join{Join: &pb.Join{Room: "lobby"}}}},
		{"notes with int64 string and enum names", `{"notes":{"time":"1764230400000","events":[{"kind":"NOTE_ON","note":60,"velocity":90,"delayMs":0}]}}`,
			&pb.ClientMessage{Payload: &pb.ClientMessage_Notes{Notes: &pb.NoteBatch{Time: 1764230400000,
				Events: []*pb.NoteEvent{{Kind: pb.NoteKind_NOTE_ON, Note: 60, Velocity: 90}}}}}},
		{"int64 as number, unknown field ignored", `{"ping":{"clientTime":12},"future":true}`,
			&pb.ClientMessage{Payload: &pb.ClientMessage_Ping{Ping: &pb.Ping{ClientTime: 12}}}},
		{"setProfile", `{"id":"x","setProfile":{"name":"Ann"}}`,
			&pb.ClientMessage{Id: "x", Payload: &pb.ClientMessage_SetProfile{SetProfile: &pb.SetProfile{Name: proto.String("Ann")}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got pb.ClientMessage
			if err := JSON.DecodeClient(websocket.MessageText, []byte(tt.in), &got); err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(&got, tt.want) {
				t.Fatalf("got %v, want %v", &got, tt.want)
			}
		})
	}
}

func TestDecodeClientRejects(t *testing.T) {
	// A chat text with invalid UTF-8, hand-built because proto.Marshal
	// refuses to produce it.
	var chat []byte
	chat = protowire.AppendTag(chat, 1, protowire.BytesType)
	chat = protowire.AppendBytes(chat, []byte{'h', 0xff, 'i'})
	var bad []byte
	bad = protowire.AppendTag(bad, 13, protowire.BytesType)
	bad = protowire.AppendBytes(bad, chat)

	tests := []struct {
		name string
		f    Format
		typ  websocket.MessageType
		in   []byte
	}{
		{"binary frame on json", JSON, websocket.MessageBinary, []byte(`{}`)},
		{"text frame on proto", Proto, websocket.MessageText, nil},
		{"not json", JSON, websocket.MessageText, []byte(`{"join":`)},
		{"invalid utf-8 in proto string", Proto, websocket.MessageBinary, bad},
		{"wrong type", JSON, websocket.MessageText, []byte(`{"ping":{"clientTime":"abc"}}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m pb.ClientMessage
			if err := tt.f.DecodeClient(tt.typ, tt.in, &m); err == nil {
				t.Fatalf("decoded %v, want an error", &m)
			}
		})
	}
}

func TestFrameEncodesOncePerFormat(t *testing.T) {
	msg := &pb.ServerMessage{Payload: &pb.ServerMessage_Notes{Notes: &pb.NoteBatch{UserId: "u1", Time: 5,
		Events: []*pb.NoteEvent{{Kind: pb.NoteKind_SUSTAIN_ON, Note: 1}}}}}
	fr := NewFrame(msg)
	var wg sync.WaitGroup
	results := make([][]byte, 16)
	for i := range results {
		wg.Go(func() {
			b, err := fr.Bytes(Format(i % 2))
			if err != nil {
				t.Error(err)
			}
			results[i] = b
		})
	}
	wg.Wait()
	for i := 2; i < len(results); i++ {
		if &results[i][0] != &results[i%2][0] {
			t.Fatal("frame encoded more than once for one format")
		}
	}
	js := string(results[1])
	for _, want := range []string{`"notes"`, `"userId"`, `"SUSTAIN_ON"`, `"u1"`} {
		if !strings.Contains(js, want) {
			t.Errorf("json %s lacks %s", js, want)
		}
	}
	var back pb.ServerMessage
	if err := proto.Unmarshal(results[0], &back); err != nil || !proto.Equal(&back, msg) {
		t.Fatalf("proto round trip: %v %v", err, &back)
	}
}

func TestFromSubprotocol(t *testing.T) {
	for _, name := range Subprotocols {
		f, ok := FromSubprotocol(name)
		if !ok || f.String() != name {
			t.Fatalf("%s -> %v %v", name, f, ok)
		}
	}
	if _, ok := FromSubprotocol(""); ok {
		t.Fatal("empty subprotocol accepted")
	}
}

// TestFrameMPP: the MPP form of a frame is encoded once, readable by the
// independent MPP client, and nil for a message whose MPP form depends on
// the recipient.
func TestFrameMPP(t *testing.T) {
	fr := NewFrame(&pb.ServerMessage{Payload: &pb.ServerMessage_Notes{Notes: &pb.NoteBatch{UserId: "u1", Time: 5,
		Events: []*pb.NoteEvent{{Kind: pb.NoteKind_NOTE_ON, Note: 60, Velocity: 127}}}}})
	a, err := fr.Bytes(MPP)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := fr.Bytes(MPP)
	if len(a) == 0 || &a[0] != &b[0] {
		t.Fatal("MPP form empty or encoded twice")
	}
	msgs, err := mpptest.Parse(a)
	if err != nil {
		t.Fatal(err)
	}
	var n mpptest.NotesFrom
	if len(msgs) != 1 || msgs[0].M != "n" || msgs[0].Decode(&n) != nil || n.P != "u1" || len(n.N) != 1 || n.N[0].N != "c3" {
		t.Fatalf("MPP notes %s", a)
	}
	welcome := NewFrame(&pb.ServerMessage{Payload: &pb.ServerMessage_Welcome{Welcome: &pb.Welcome{User: &pb.User{Id: "u1"}}}})
	if b, err := welcome.Bytes(MPP); b != nil || err != nil {
		t.Fatalf("welcome has a shared MPP form: %s %v", b, err)
	}
	if MPP.MessageType() != websocket.MessageText || MPP.String() != NameMPP {
		t.Fatalf("MPP is %v %q", MPP.MessageType(), MPP.String())
	}
	if err := MPP.DecodeClient(websocket.MessageText, []byte(`[{"m":"hi"}]`), &pb.ClientMessage{}); err == nil {
		t.Fatal("codec decoded an MPP frame: that is the session's")
	}
}
