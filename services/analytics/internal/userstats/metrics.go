package userstats

import pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"

// Metric names: fields of the user hash and leaderboard names.
const (
	NotesPlayed    = "notes_played"
	ChatMessages   = "chat_messages"
	SecondsInRooms = "seconds_in_rooms"
	RoomsJoined    = "rooms_joined"
	Friends        = "friends"
)

// Leaderboards are the metrics ranked in sorted sets.
var Leaderboards = []string{NotesPlayed, ChatMessages, SecondsInRooms}

// IsLeaderboard reports whether metric has a leaderboard.
func IsLeaderboard(metric string) bool {
	for _, m := range Leaderboards {
		if m == metric {
			return true
		}
	}
	return false
}

// effect is what ev adds to its user's totals; ok is false for events that
// change no total (and for events without a user).
func effect(ev *pb.Event) (metric string, delta int64, ok bool) {
	if ev.GetUserId() == "" {
		return "", 0, false
	}
	switch ev.GetType() {
	case pb.EventType_EVENT_TYPE_NOTES:
		// A NOTES event without a count is one note.
		return NotesPlayed, max(ev.GetCount(), 1), true
	case pb.EventType_EVENT_TYPE_CHAT:
		return ChatMessages, 1, true
	case pb.EventType_EVENT_TYPE_ROOM_JOINED:
		return RoomsJoined, 1, true
	case pb.EventType_EVENT_TYPE_ROOM_LEFT:
		if ev.GetCount() > 0 {
			return SecondsInRooms, ev.GetCount(), true
		}
	case pb.EventType_EVENT_TYPE_FRIEND_ADDED:
		return Friends, 1, true
	}
	return "", 0, false
}
