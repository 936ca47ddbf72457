package room

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/text"
)

// LobbyID is the lobby that always exists; full lobbies overflow into
// "lobby-2", "lobby-3", ...
const LobbyID = "lobby"

// maxLobbies bounds the overflow search.
const maxLobbies = 1000

var (
	roomIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	colorPattern  = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
)

// lobbyIndex returns 1 for "lobby", n for "lobby-n" (n >= 2) and 0 for any
// other id.
func lobbyIndex(id string) int {
	if id == LobbyID {
		return 1
	}
	rest, ok := strings.CutPrefix(id, LobbyID+"-")
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 2 || strconv.Itoa(n) != rest {
		return 0
	}
	return n
}

func lobbyName(n int) string {
	if n <= 1 {
		return LobbyID
	}
	return LobbyID + "-" + strconv.Itoa(n)
}

// limits are the capacities the service enforces.
type limits struct {
	room, lobby, large int32
}

// ceiling is the largest max players caller may give a room (lobby or
// not): lobbies keep theirs; staff (ACTION_CREATE_LARGE_ROOM) may go up
// to the large ceiling, everyone else to the room capacity.
func (l limits) ceiling(lobby bool, caller auth.Identity) int32 {
	if lobby {
		return l.lobby
	}
	if ok, _ := caller.May(pb.Action_ACTION_CREATE_LARGE_ROOM); ok {
		return l.large
	}
	return l.room
}

// defaultSettings are what a new room gets for every field its creator
// leaves unset: public, guests welcome, nobody restricted.
func defaultSettings(name string, capacity int32) *pb.RoomSettings {
	return &pb.RoomSettings{
		Name:             proto.String(name),
		Public:           proto.Bool(true),
		ProOnly:          proto.Bool(false),
		AllowGuests:      proto.Bool(true),
		OnlyOwnerCanChat: proto.Bool(false),
		OnlyOwnerCanPlay: proto.Bool(false),
		WelcomeMessage:   proto.String(""),
		MaxPlayers:       proto.Int32(capacity),
		Color:            proto.String(""),
		Maintenance:      proto.Bool(false),
	}
}

// validateSettings checks the fields s sets; capacity is the room's upper
// bound for max_players.
func validateSettings(s *pb.RoomSettings, capacity int32) error {
	if s == nil {
		return nil
	}
	if s.Name != nil {
		if err := text.Name("room name", strings.TrimSpace(s.GetName()), 64); err != nil {
			return refuse(ReasonInvalid, err.Error())
		}
	}
	if s.Password != nil && (!utf8.ValidString(s.GetPassword()) || len(s.GetPassword()) > 128) {
		return refuse(ReasonInvalid, "password must be at most 128 bytes of UTF-8")
	}
	if s.WelcomeMessage != nil {
		if err := text.Text("welcome message", s.GetWelcomeMessage(), text.MaxChat); err != nil {
			return refuse(ReasonInvalid, err.Error())
		}
	}
	if s.MaxPlayers != nil && (s.GetMaxPlayers() < 1 || s.GetMaxPlayers() > capacity) {
		return refuse(ReasonInvalid, fmt.Sprintf("max players must be 1-%d", capacity))
	}
	if s.Color != nil && s.GetColor() != "" && !colorPattern.MatchString(s.GetColor()) {
		return refuse(ReasonInvalid, "color must be #rrggbb")
	}
	return nil
}

// applySettings merges the fields upd sets into r; a password is hashed
// into r.PasswordHash ("" removes it) and never stored in the settings.
func applySettings(r *pb.Room, upd *pb.RoomSettings) error {
	if upd == nil {
		return nil
	}
	upd = proto.CloneOf(upd)
	if upd.Password != nil {
		pw := upd.GetPassword()
		upd.Password = nil
		if pw == "" {
			r.PasswordHash = ""
		} else {
			h, err := hashPassword(pw)
			if err != nil {
				return err
			}
			r.PasswordHash = h
		}
	}
	if upd.Name != nil {
		upd.Name = proto.String(strings.TrimSpace(upd.GetName()))
	}
	if r.Settings == nil {
		r.Settings = &pb.RoomSettings{}
	}
	proto.Merge(r.Settings, upd)
	r.HasPassword = r.PasswordHash != ""
	return nil
}

// welcome replaces %%user%% in msg with name.
func welcome(msg, name string) string {
	return strings.ReplaceAll(msg, "%%user%%", name)
}
