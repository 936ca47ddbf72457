package room

import (
	"strings"
	"testing"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/text"
)

// FuzzRoomSettings: whatever settings a client sends, validation either
// refuses them with INVALID_ARGUMENT or they apply to a room that keeps
// every rule: a name of 1-64 characters without invisible characters, a
// capacity within bounds, a #rrggbb color, no password kept in clear.
func FuzzRoomSettings(f *testing.F) {
	f.Add("Jazz Club", "secret", "hi %%user%%", int32(8), "#123456", true)
	f.Add(" ", "", "", int32(0), "red", false)
	f.Add("a\u202Eb", strings.Repeat("p", 129), strings.Repeat("w", 513), int32(21), "#12345g", true)
	f.Fuzz(func(t *testing.T, name, password, welcome string, maxPlayers int32, color string, public bool) {
		s := &pb.RoomSettings{
			Name: proto.String(name), Password: proto.String(password), WelcomeMessage: proto.String(welcome),
			MaxPlayers: proto.Int32(maxPlayers), Color: proto.String(color), Public: proto.Bool(public),
		}
		if err := validateSettings(s, 20); err != nil {
			if !isReason(err, ReasonInvalid) {
				t.Fatalf("refused with %v, want INVALID_ARGUMENT", err)
			}
			return
		}
		r := &pb.Room{Id: "r", Settings: defaultSettings("r", 20)}
		if err := applySettings(r, s); err != nil {
			t.Fatalf("validated settings do not apply: %v", err)
		}
		got := r.GetSettings()
		if n := utf8.RuneCountInString(got.GetName()); n < 1 || n > 64 || text.Name("name", got.GetName(), 64) != nil {
			t.Fatalf("room name %q kept", got.GetName())
		}
		if got.GetMaxPlayers() < 1 || got.GetMaxPlayers() > 20 {
			t.Fatalf("capacity %d kept", got.GetMaxPlayers())
		}
		if c := got.GetColor(); c != "" && !colorPattern.MatchString(c) {
			t.Fatalf("color %q kept", c)
		}
		if got.Password != nil || (password != "" && !checkPassword(r.GetPasswordHash(), password)) {
			t.Fatalf("password kept in clear or lost: %v / %q", got.Password, r.GetPasswordHash())
		}
	})
}
