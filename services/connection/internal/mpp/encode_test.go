package mpp_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/connection/internal/mpp"
	"github.com/pianorhythm/server/services/connection/internal/mpp/mpptest"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// encodeOne encodes m and parses it with the independent client, which
// must find exactly one message named want.
func encodeOne(t *testing.T, m *pb.ServerMessage, want string, v any) {
	t.Helper()
	b, err := mpp.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := mpptest.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].M != want {
		t.Fatalf("encoded %s, want one %q", b, want)
	}
	if err := msgs[0].Decode(v); err != nil {
		t.Fatal(err)
	}
}

func TestEncodeChat(t *testing.T) {
	sent := time.UnixMilli(1628015260531)
	var a mpptest.Chat
	encodeOne(t, &pb.ServerMessage{Payload: &pb.ServerMessage_Chat{Chat: &pb.ChatPosted{Message: &pb.ChatMessage{
		Id: "51d200f4", RoomId: "lobby", UserId: "u-ann", DisplayName: "Ann", Color: "#ff8ff9",
		Text: "test \"quoted\" \u2028 ✧", SentAt: timestamppb.New(sent),
	}}}}, "a", &a)
	if a.A != "test \"quoted\" \u2028 ✧" || a.T != 1628015260531 || a.ID != "51d200f4" {
		t.Fatalf("a = %+v", a)
	}
	if a.P.ID != "u-ann" || a.P.UserID != "u-ann" || a.P.Name != "Ann" || a.P.Color != "#ff8ff9" {
		t.Fatalf("sender %+v", a.P)
	}
}

func TestEncodeParticipants(t *testing.T) {
	t.Run("arrival", func(t *testing.T) {
		var p mpptest.Participant
		encodeOne(t, &pb.ServerMessage{Payload: &pb.ServerMessage_UserJoined{UserJoined: &pb.UserJoined{
			RoomId: "lobby", Member: member(cat)}}}, "p", &p)
		if p.ID != cat.GetId() || p.UserID != cat.GetId() || p.Name != "Cat" || p.Color != "#e51c8d" {
			t.Fatalf("p = %+v", p)
		}
		if p.X == nil || *p.X != 200 || *p.Y != 100 {
			t.Fatalf("a newcomer's cursor is MPP's unset 200/100, got %v %v", p.X, p.Y)
		}
		if p.Tag == nil || p.Tag.Text != "MOD" {
			t.Fatalf("a moderator has the MOD tag, got %+v", p.Tag)
		}
	})
	t.Run("profile change keeps the cursor", func(t *testing.T) {
		var p mpptest.Participant
		encodeOne(t, &pb.ServerMessage{Payload: &pb.ServerMessage_MemberUpdated{MemberUpdated: &pb.MemberUpdated{
			RoomId: "lobby", User: &pb.User{Id: "u-ann", DisplayName: "Annie", Color: "#000001"}}}}, "p", &p)
		if p.ID != "u-ann" || p.Name != "Annie" || p.Color != "#000001" || p.X != nil || p.Y != nil || p.Tag != nil {
			t.Fatalf("p = %+v (an update must not move the cursor)", p)
		}
	})
	t.Run("no name or color", func(t *testing.T) {
		var p mpptest.Participant
		encodeOne(t, &pb.ServerMessage{Payload: &pb.ServerMessage_MemberUpdated{MemberUpdated: &pb.MemberUpdated{
			User: &pb.User{Id: "g-1"}}}}, "p", &p)
		if p.Name == "" || len(p.Color) != 7 || p.Color[0] != '#' {
			t.Fatalf("MPP clients need a name and a color: %+v", p)
		}
	})
	t.Run("departure", func(t *testing.T) {
		var bye mpptest.Left
		encodeOne(t, &pb.ServerMessage{Payload: &pb.ServerMessage_UserLeft{UserLeft: &pb.UserLeft{
			RoomId: "lobby", UserId: "u-bob", Reason: "left"}}}, "bye", &bye)
		if bye.P != "u-bob" {
			t.Fatalf("bye = %+v", bye)
		}
	})
}

func TestEncodeCursor(t *testing.T) {
	var m mpptest.Cursor
	encodeOne(t, &pb.ServerMessage{Payload: &pb.ServerMessage_Cursor{Cursor: &pb.Cursor{UserId: "u-ann", X: 50.3, Y: -2.25}}}, "m", &m)
	if m.ID != "u-ann" || m.X != 50.3 || m.Y != -2.25 {
		t.Fatalf("m = %+v", m)
	}
}

func TestEncodeTimeSync(t *testing.T) {
	var pong mpptest.Pong
	encodeOne(t, &pb.ServerMessage{Id: "t", Payload: &pb.ServerMessage_Pong{Pong: &pb.Pong{ClientTime: 1628020443009, ServerTime: 1628020444326}}}, "t", &pong)
	if pong.T != 1628020444326 || pong.E == nil || *pong.E != 1628020443009 {
		t.Fatalf("t = %+v", pong)
	}
	var bare mpptest.Pong
	encodeOne(t, &pb.ServerMessage{Payload: &pb.ServerMessage_Pong{Pong: &pb.Pong{ServerTime: 7}}}, "t", &bare)
	if bare.T != 7 || bare.E != nil {
		t.Fatalf("a ping without e is answered without e: %+v", bare)
	}
}

func TestEncodeQuota(t *testing.T) {
	for _, tt := range []struct {
		name                   string
		q                      *pb.NoteQuota
		allowance, max, window int
	}{
		{"room", &pb.NoteQuota{Allowance: 150, Max: 1200, Refill: 400}, 400, 1200, 3},
		{"lobby without refill", &pb.NoteQuota{Allowance: 600, Max: 600}, 200, 600, 3},
		{"unlimited", &pb.NoteQuota{Allowance: -1, Max: -1, Refill: -1}, 1000000, 3000000, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var nq mpptest.Quota
			encodeOne(t, &pb.ServerMessage{Payload: &pb.ServerMessage_NoteQuota{NoteQuota: tt.q}}, "nq", &nq)
			if nq.Allowance != tt.allowance || nq.Max != tt.max || nq.MaxHistLen != tt.window {
				t.Fatalf("nq = %+v", nq)
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	var n mpptest.Notification
	encodeOne(t, &pb.ServerMessage{Id: "ch", Payload: &pb.ServerMessage_Error{Error: &pb.Error{Code: "ROOM_FULL", Message: "the room is full"}}}, "notification", &n)
	if n.Title != "Channel full" || n.Text != "Could not join the channel: the room is full" || n.Duration <= 0 {
		t.Fatalf("notification %+v", n)
	}
	n = mpptest.Notification{}
	encodeOne(t, &pb.ServerMessage{Payload: &pb.ServerMessage_Error{Error: &pb.Error{Code: "SOMETHING_NEW", Message: "why"}}}, "notification", &n)
	if n.Title != "Notice" || n.Text != "why" {
		t.Fatalf("notification %+v", n)
	}
	// A refused cursor is dropped, as MPP drops them.
	b, err := mpp.Encode(&pb.ServerMessage{Id: "m", Payload: &pb.ServerMessage_Error{Error: &pb.Error{Code: "NOT_IN_ROOM", Message: "not in a room"}}})
	if err != nil || b != nil {
		t.Fatalf("cursor refusal encoded as %s", b)
	}
}

func TestEncodeRoomList(t *testing.T) {
	left := timestamppb.New(time.UnixMilli(1627974260906))
	rooms := []*pb.Room{
		{Id: "lobby", Lobby: true, MemberCount: 16, Settings: &pb.RoomSettings{Public: proto.Bool(true), MaxPlayers: proto.Int32(30)}},
		{Id: mpp.RoomID("✧ Dev Room ✧"), OwnerId: "u-ann", MemberCount: 3, Settings: &pb.RoomSettings{
			Name: proto.String("✧ Dev Room ✧"), Public: proto.Bool(true), OnlyOwnerCanChat: proto.Bool(true), Color: proto.String("#440c09")}},
		{Id: "jam", OwnerId: "u-bob", OwnerLeftAt: left, MemberCount: 1, Settings: &pb.RoomSettings{Public: proto.Bool(true), OnlyOwnerCanPlay: proto.Bool(true)}},
		{Id: "free", MemberCount: 2, Settings: &pb.RoomSettings{Public: proto.Bool(true)}},
	}
	var ls mpptest.List
	encodeOne(t, &pb.ServerMessage{Payload: &pb.ServerMessage_RoomList{RoomList: &pb.RoomList{Rooms: rooms}}}, "ls", &ls)
	if !ls.C || len(ls.U) != 4 {
		t.Fatalf("ls = %+v", ls)
	}
	lobby, dev, jam, free := ls.U[0], ls.U[1], ls.U[2], ls.U[3]
	if lobby.Name != "lobby" || lobby.ID != "lobby" || lobby.Count != 16 || !lobby.Settings.Lobby || lobby.Crown != nil || lobby.Settings.Limit.String() != "30" {
		t.Fatalf("lobby %+v %+v", lobby, lobby.Settings)
	}
	if dev.Name != "✧ Dev Room ✧" || *dev.Settings.Chat || dev.Settings.Color != "#440c09" || dev.Crown == nil || dev.Crown.ParticipantID != "u-ann" {
		t.Fatalf("a channel with an MPP name lists as that name, with its owner's crown: %+v %+v", dev, dev.Settings)
	}
	// An owner who left: MPP's dropped crown, at the time they left (only
	// they may take it back for 15 s, as our seat hold).
	if jam.Crown == nil || jam.Crown.ParticipantID != "" || jam.Crown.UserID != "u-bob" || jam.Crown.Time != 1627974260906 || !*jam.Settings.Crownsolo {
		t.Fatalf("jam %+v", jam.Crown)
	}
	if free.Crown == nil || free.Crown.ParticipantID != "" || free.Crown.Time != 0 {
		t.Fatalf("a free seat is a crown anyone may take: %+v", free.Crown)
	}

	ls = mpptest.List{}
	encodeOne(t, &pb.ServerMessage{Payload: &pb.ServerMessage_RoomsChanged{RoomsChanged: &pb.RoomsChanged{
		Rooms: rooms[3:], Removed: []string{"gone"}}}}, "ls", &ls)
	if ls.C || len(ls.U) != 2 || ls.U[0].Name != "free" || ls.U[1].Name != "gone" || ls.U[1].Count != 0 || ls.U[1].Settings == nil {
		t.Fatalf("update %+v", ls)
	}
}

// What has no MPP form, or whose form depends on the recipient, has no
// shared encoding.
func TestEncodeNothingShared(t *testing.T) {
	for _, m := range []*pb.ServerMessage{
		{Payload: &pb.ServerMessage_Ack{Ack: &pb.Ack{}}},
		{Payload: &pb.ServerMessage_FriendUpdate{FriendUpdate: &pb.FriendUpdate{}}},
		{Payload: &pb.ServerMessage_Profile{Profile: &pb.Profile{User: ann}}},
		{Payload: &pb.ServerMessage_ChatDeleted{ChatDeleted: &pb.ChatDeleted{RoomId: "r", MessageId: "m"}}},
		welcome(ann, ""),
		joinedMsg(room("r", "u-ann"), ann),
		{Payload: &pb.ServerMessage_RoomUpdated{RoomUpdated: &pb.RoomUpdated{Room: room("r", "u-ann")}}},
		{Payload: &pb.ServerMessage_OwnerChanged{OwnerChanged: &pb.OwnerChanged{RoomId: "r"}}},
		{Payload: &pb.ServerMessage_Kicked{Kicked: &pb.Kicked{RoomId: "r", UserId: "u-bob"}}},
		{},
	} {
		if b, err := mpp.Encode(m); b != nil || err != nil {
			t.Errorf("%T encoded as %s (%v)", m.GetPayload(), b, err)
		}
	}
}

// The shared encoding is a pure function of the message: encoding once
// for every recipient gives what each would get on its own, from many
// goroutines at once.
func TestEncodeConcurrent(t *testing.T) {
	m := &pb.ServerMessage{Payload: &pb.ServerMessage_Notes{Notes: &pb.NoteBatch{UserId: "u\"1\n", Time: 9,
		Events: []*pb.NoteEvent{{Kind: pb.NoteKind_NOTE_ON, Note: 64, Velocity: 80}}}}}
	want, err := mpp.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if b, _ := mpp.Encode(m); string(b) != string(want) {
					t.Error("encodings differ")
					return
				}
			}
		})
	}
	wg.Wait()
	var n mpptest.NotesFrom
	encodeOne(t, m, "n", &n)
	if n.P != "u\"1\n" || !strings.HasPrefix(string(want), "[{") {
		t.Fatalf("sender id escaped wrong: %s", want)
	}
}

func TestEncodeAchievement(t *testing.T) {
	var n mpptest.Notification
	encodeOne(t, &pb.ServerMessage{Payload: &pb.ServerMessage_Achievement{Achievement: &pb.AchievementUnlocked{
		AchievementId: "notes_100", Title: "Hundred notes", Metric: "notes_played", Threshold: 100}}}, "notification", &n)
	if n.Title != "Achievement unlocked" || !strings.Contains(n.Text, "Hundred notes") || !strings.Contains(n.Text, "100 notes played") {
		t.Fatalf("notification %+v", n)
	}
}
