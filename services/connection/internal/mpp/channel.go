package mpp

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode/utf8"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

// MPP channel names are any visible text up to 512 characters ("✧ Dev
// Room ✧", "test/awkward"); our room ids are 1-64 of [A-Za-z0-9_-]. A name
// that is a valid room id is that room ("lobby" is our lobby, shared with
// our own clients); any other name is the room "mpp-" + 32 hex digits of
// its SHA-256, created with the name as its display name when it fits our
// 64-character limit, so the name comes back in ch and ls and maps to the
// same room again.
const (
	hashedPrefix   = "mpp-"
	hashedHexChars = 32
	maxRoomIDChars = 64
	maxNameRunes   = 64
)

// RoomID is the room an MPP channel name stands for. Surrounding spaces
// are not part of the name (our room names are trimmed).
func RoomID(channel string) string {
	channel = strings.TrimSpace(channel)
	if validRoomID(channel) {
		return channel
	}
	sum := sha256.Sum256([]byte(channel))
	return hashedPrefix + hex.EncodeToString(sum[:hashedHexChars/2])
}

// ChannelName is the MPP channel name of a room: the display name when it
// is the name the room id was derived from, else the room id (which maps
// back to the room: it is a valid room id).
func ChannelName(r *pb.Room) string {
	id := r.GetId()
	if name := r.GetSettings().GetName(); name != "" && name != id && strings.HasPrefix(id, hashedPrefix) && RoomID(name) == id {
		return name
	}
	return id
}

// createName is the display name a new room gets for channel, "" when our
// rules cannot hold it (too long) or it adds nothing to the id.
func createName(channel, roomID string) string {
	channel = strings.TrimSpace(channel)
	if channel == roomID || utf8.RuneCountInString(channel) > maxNameRunes {
		return ""
	}
	return channel
}

func validRoomID(s string) bool {
	if s == "" || len(s) > maxRoomIDChars {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
