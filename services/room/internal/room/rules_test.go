package room

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/roomview"
	"github.com/pianorhythm/server/pkg/rpc"
)

func TestCleanChat(t *testing.T) {
	tests := []struct {
		in, want string
		reason   pb.ErrorReason
	}{
		{"hi", "hi", 0},
		{"ab\xffcd", "", ReasonInvalid}, // cannot even travel in a proto string
		{"\x1b[31mred", "[31mred", 0},
		{strings.Repeat("a", 512), strings.Repeat("a", 512), 0},
		{strings.Repeat("a", 513), "", ReasonInvalid},
		{" \t ", "", ReasonInvalid},
	}
	for _, tc := range tests {
		got, err := cleanChat(tc.in)
		if rpc.ReasonOf(err) != tc.reason || got != tc.want {
			t.Errorf("cleanChat(%q) = %q, %v; want %q, %q", tc.in, got, err, tc.want, tc.reason)
		}
	}
}

func TestPassword(t *testing.T) {
	h, err := hashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := hashPassword("correct horse")
	if h == h2 {
		t.Fatal("same hash twice: salt missing")
	}
	for _, tc := range []struct {
		hash, pw string
		ok       bool
	}{
		{h, "correct horse", true},
		{h, "correct horse ", false},
		{h, "", false},
		{"", "", false},
		{"$argon2i$v=19$m=1,t=1,p=1$AAAA$AAAA", "x", false},
		{strings.Replace(h, "t=1", "t=0", 1), "correct horse", false},
	} {
		if got := checkPassword(tc.hash, tc.pw); got != tc.ok {
			t.Errorf("checkPassword(%q, %q) = %v", tc.hash, tc.pw, got)
		}
	}
}

func TestLobbyIndex(t *testing.T) {
	for id, want := range map[string]int{"lobby": 1, "lobby-2": 2, "lobby-10": 10, "lobby-1": 0, "lobby-02": 0, "lobbyx": 0, "room": 0, "lobby-": 0} {
		if got := lobbyIndex(id); got != want {
			t.Errorf("lobbyIndex(%q) = %d, want %d", id, got, want)
		}
	}
}

func TestPublicHidesPassword(t *testing.T) {
	r := &pb.Room{Id: "x", PasswordHash: "$argon2id$...", Settings: &pb.RoomSettings{Password: proto.String("pw")}}
	p := roomview.Public(r)
	if p.GetPasswordHash() != "" || p.GetSettings().Password != nil || !p.GetHasPassword() {
		t.Fatalf("public = %v", p)
	}
	if r.GetPasswordHash() == "" {
		t.Fatal("public modified its argument")
	}
}
