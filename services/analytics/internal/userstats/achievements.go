package userstats

// Achievement is unlocked once a user's Metric total reaches Threshold.
type Achievement struct {
	ID        string
	Title     string
	Metric    string
	Threshold int64
}

// Achievements is the catalogue, in the order they are listed for a user
// unlocked at the same time.
var Achievements = []Achievement{
	{ID: "first_note", Title: "First note", Metric: NotesPlayed, Threshold: 1},
	{ID: "notes_1000", Title: "A thousand notes", Metric: NotesPlayed, Threshold: 1000},
	{ID: "notes_100000", Title: "Virtuoso", Metric: NotesPlayed, Threshold: 100000},
	{ID: "first_chat", Title: "Hello there", Metric: ChatMessages, Threshold: 1},
	{ID: "chats_100", Title: "Chatterbox", Metric: ChatMessages, Threshold: 100},
	{ID: "hour_in_rooms", Title: "An hour in rooms", Metric: SecondsInRooms, Threshold: 3600},
	{ID: "rooms_10", Title: "Explorer", Metric: RoomsJoined, Threshold: 10},
	{ID: "first_friend", Title: "First friend", Metric: Friends, Threshold: 1},
}

// thresholds returns the script arguments (threshold, id, ...) of metric.
func thresholds(metric string) []any {
	var out []any
	for _, a := range Achievements {
		if a.Metric == metric {
			out = append(out, a.Threshold, a.ID)
		}
	}
	return out
}

func byID(id string) (Achievement, int, bool) {
	for i, a := range Achievements {
		if a.ID == id {
			return a, i, true
		}
	}
	return Achievement{}, 0, false
}
