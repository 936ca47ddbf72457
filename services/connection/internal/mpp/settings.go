package mpp

import (
	"fmt"
	"math"
	"strings"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"google.golang.org/protobuf/proto"
)

// Colors a room shows to MPP clients when its settings have none (MPP
// clients need one to paint the background).
const (
	defaultRoomColor   = "#3b5054"
	defaultLobbyColor  = "#73b3cc"
	defaultLobbyColor2 = "#273546"
	maxLimit           = 99
)

// settingsIn is MPP channel settings as a client sends them (ch set,
// chset set). Keys MPP has and we do not (color2, "no cussing", noindex,
// minOnlineTime) are not decoded: they are ignored, as is the read-only
// lobby.
type settingsIn struct {
	Visible   *flag   `json:"visible"`
	Chat      *flag   `json:"chat"`
	Crownsolo *flag   `json:"crownsolo"`
	Color     *string `json:"color"`
	Limit     *number `json:"limit"`
}

// roomSettings maps MPP settings to ours: visible is public, chat off is
// only-owner-can-chat (MPP's chat: false silences everyone; ours still
// lets the owner speak), crownsolo is only-owner-can-play, limit is
// max_players (the room service refuses more than a room holds). Only the
// keys present are set, so a chset changes only what it names.
func roomSettings(in *settingsIn) (*pb.RoomSettings, error) {
	s := &pb.RoomSettings{}
	if in == nil {
		return s, nil
	}
	if in.Visible != nil {
		s.Public = proto.Bool(bool(*in.Visible))
	}
	if in.Chat != nil {
		s.OnlyOwnerCanChat = proto.Bool(!bool(*in.Chat))
	}
	if in.Crownsolo != nil {
		s.OnlyOwnerCanPlay = proto.Bool(bool(*in.Crownsolo))
	}
	if in.Color != nil {
		c, err := parseColor(*in.Color)
		if err != nil {
			return nil, fmt.Errorf("color %w", err)
		}
		s.Color = proto.String(c)
	}
	if in.Limit != nil {
		l := float64(*in.Limit)
		if l != math.Trunc(l) || l < 0 || l > maxLimit {
			return nil, fmt.Errorf("limit must be a whole number 0-%d", maxLimit)
		}
		s.MaxPlayers = proto.Int32(int32(l))
	}
	return s, nil
}

// settingsOut is MPP channel settings as we send them.
type settingsOut struct {
	Visible   bool   `json:"visible"`
	Chat      bool   `json:"chat"`
	Crownsolo bool   `json:"crownsolo"`
	Color     string `json:"color"`
	Color2    string `json:"color2,omitempty"`
	Limit     int32  `json:"limit,omitempty"`
	Lobby     bool   `json:"lobby,omitempty"`
}

// mppSettings maps our room's settings to MPP's (see roomSettings). Ours
// that MPP cannot show (password, pro-only, guests, welcome message,
// maintenance) are left out.
func mppSettings(r *pb.Room) settingsOut {
	s := r.GetSettings()
	out := settingsOut{
		Visible:   s.GetPublic(),
		Chat:      !s.GetOnlyOwnerCanChat(),
		Crownsolo: s.GetOnlyOwnerCanPlay(),
		Color:     s.GetColor(),
		Limit:     s.GetMaxPlayers(),
		Lobby:     r.GetLobby(),
	}
	if out.Color == "" {
		out.Color = defaultRoomColor
		if out.Lobby {
			out.Color, out.Color2 = defaultLobbyColor, defaultLobbyColor2
		}
	}
	return out
}

// parseColor accepts "#rrggbb" and "#rgb" and returns lowercase "#rrggbb".
func parseColor(s string) (string, error) {
	if len(s) != 4 && len(s) != 7 || s[0] != '#' {
		return "", errBadColor
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return "", errBadColor
		}
	}
	s = strings.ToLower(s)
	if len(s) == 4 {
		s = string([]byte{'#', s[1], s[1], s[2], s[2], s[3], s[3]})
	}
	return s, nil
}

var errBadColor = fmt.Errorf("must be #rrggbb")

// pos is a point in percent of the screen.
type pos struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// crownOut is MPP's crown: held (participantId set) or dropped at time.
type crownOut struct {
	UserID        string `json:"userId"`
	ParticipantID string `json:"participantId,omitempty"`
	Time          int64  `json:"time"`
	StartPos      pos    `json:"startPos"`
	EndPos        pos    `json:"endPos"`
}

// Where a dropped crown falls from (the owner's cursor when known) and to.
var (
	crownStart = pos{X: 50, Y: 50}
	crownEndY  = 82.0
)

// crown maps our owner seat to MPP's crown; lobbies have none. The seat
// is held (crown held) while the owner is present; an owner who left keeps
// the seat for 15 s (owner_left_at), which is exactly MPP's dropped crown
// that only its holder may take back for 15 s after time; an empty seat
// is a crown dropped long ago (time 0), free for anyone.
//
// present reports whether the owner is in the room (nil: trust
// owner_left_at, as the room list must); leftAt is when the owner was seen
// leaving (ms, 0 unknown); from is where the crown falls from.
func crown(r *pb.Room, present func(string) bool, leftAt int64, previous string, from *pos) *crownOut {
	if r.GetLobby() {
		return nil
	}
	owner := r.GetOwnerId()
	start := crownStart
	if from != nil {
		start = pos{X: clampPercent(from.X), Y: clampPercent(from.Y)}
	}
	c := &crownOut{UserID: owner, StartPos: start, EndPos: pos{X: start.X, Y: max(start.Y, crownEndY)}}
	held := owner != "" && r.GetOwnerLeftAt() == nil
	if present != nil {
		held = owner != "" && present(owner)
	}
	switch {
	case held:
		c.ParticipantID = owner
	case owner == "":
		c.UserID = previous
	case r.GetOwnerLeftAt() != nil:
		c.Time = r.GetOwnerLeftAt().AsTime().UnixMilli()
	default:
		c.Time = leftAt
	}
	return c
}

func clampPercent(v float64) float64 { return min(max(v, 0), 100) }

// channelOut is MPP's channel info.
type channelOut struct {
	Name     string      `json:"_id"`
	ID       string      `json:"id"`
	Count    int         `json:"count"`
	Settings settingsOut `json:"settings"`
	Crown    *crownOut   `json:"crown,omitempty"`
}

// listedChannel is a room as the channel list shows it: from the room
// alone (no member list), so the same for every recipient.
func listedChannel(r *pb.Room) channelOut {
	name := ChannelName(r)
	return channelOut{
		Name: name, ID: name, Count: int(r.GetMemberCount()),
		Settings: mppSettings(r),
		Crown:    crown(r, nil, 0, "", nil),
	}
}
