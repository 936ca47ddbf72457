package userstats

// Achievement is unlocked once a user's Metric total reaches Threshold.
type Achievement struct {
	ID        string
	Title     string
	Metric    string
	Threshold int64
}

// Achievements is the catalogue, in the order progress is listed and
// achievements unlocked at the same time are listed.
var Achievements = []Achievement{
	{ID: "first_note", Title: "First note", Metric: NotesPlayed, Threshold: 1},
	{ID: "notes_1000", Title: "A thousand notes", Metric: NotesPlayed, Threshold: 1000},
	{ID: "notes_100000", Title: "Virtuoso", Metric: NotesPlayed, Threshold: 100000},
	{ID: "first_chat", Title: "Hello there", Metric: ChatMessages, Threshold: 1},
	{ID: "chats_100", Title: "Chatterbox", Metric: ChatMessages, Threshold: 100},
	{ID: "hour_in_rooms", Title: "An hour in rooms", Metric: SecondsInRooms, Threshold: 3600},
	{ID: "rooms_10", Title: "Explorer", Metric: RoomsJoined, Threshold: 10},
	{ID: "first_friend", Title: "First friend", Metric: Friends, Threshold: 1},
	{ID: "first_song", Title: "Encore", Metric: SongsCompleted, Threshold: 1},
	{ID: "songs_10", Title: "Repertoire", Metric: SongsCompleted, Threshold: 10},
}

func byID(id string) (Achievement, int, bool) {
	for i, a := range Achievements {
		if a.ID == id {
			return a, i, true
		}
	}
	return Achievement{}, 0, false
}
