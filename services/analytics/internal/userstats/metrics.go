package userstats

import pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"

// Metric names: fields of the user document and leaderboard names.
const (
	NotesPlayed      = "notes_played"
	ChatMessages     = "chat_messages"
	SecondsInRooms   = "seconds_in_rooms"
	RoomsJoined      = "rooms_joined"
	Friends          = "friends"
	FriendRequests   = "friend_requests_sent"
	Logins           = "logins"
	SongsPlayed      = "songs_played"
	SongsCompleted   = "songs_completed"
	SecondsConnected = "seconds_connected"
	accuracySum      = "accuracy_sum"
	maxAccuracy      = 1.0
)

// Leaderboards are the metrics ranked per day, week and all time.
var Leaderboards = []string{NotesPlayed, ChatMessages, SecondsInRooms, SongsCompleted}

// IsLeaderboard reports whether metric has a leaderboard.
func IsLeaderboard(metric string) bool {
	for _, m := range Leaderboards {
		if m == metric {
			return true
		}
	}
	return false
}

// effect is what one event adds to one of its user's totals.
type effect struct {
	metric string
	delta  int64
}

// effects are what ev adds to its user's totals; none for events that
// change no total (and for events without a user).
func effects(ev *pb.Event) []effect {
	if ev.GetUserId() == "" {
		return nil
	}
	one := func(m string, d int64) []effect { return []effect{{m, d}} }
	switch ev.GetType() {
	case pb.EventType_EVENT_TYPE_NOTES:
		// A NOTES event without a count is one note.
		return one(NotesPlayed, max(ev.GetCount(), 1))
	case pb.EventType_EVENT_TYPE_CHAT:
		return one(ChatMessages, 1)
	case pb.EventType_EVENT_TYPE_ROOM_JOINED:
		return one(RoomsJoined, 1)
	case pb.EventType_EVENT_TYPE_ROOM_LEFT:
		if ev.GetCount() > 0 {
			return one(SecondsInRooms, ev.GetCount())
		}
	case pb.EventType_EVENT_TYPE_FRIEND_ADDED:
		return one(Friends, 1)
	case pb.EventType_EVENT_TYPE_FRIEND_REQUESTED:
		return one(FriendRequests, 1)
	case pb.EventType_EVENT_TYPE_LOGIN:
		return one(Logins, 1)
	case pb.EventType_EVENT_TYPE_SONG_PLAYED:
		return one(SongsPlayed, 1)
	case pb.EventType_EVENT_TYPE_SONG_COMPLETED:
		return one(SongsCompleted, 1)
	case pb.EventType_EVENT_TYPE_CONNECTION_CLOSED:
		if ev.GetCount() > 0 {
			return one(SecondsConnected, ev.GetCount())
		}
	}
	return nil
}

// Accuracy is a SONG_COMPLETED event's accuracy, clamped to 0-1.
func Accuracy(ev *pb.Event) float64 {
	return min(max(ev.GetAccuracy(), 0), maxAccuracy)
}
