package analyticssvc_test

import (
	"github.com/pianorhythm/server/pkg/auth"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/analytics/analyticssvc"
)

func songIDs(list []*pb.Song) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = s.GetId()
	}
	return out
}

func TestSongCatalogue(t *testing.T) {
	st := newStores(t)
	c := start(t, st, analyticssvc.Config{}).client
	ctx := ctxT(t)

	// Seeded at start, paged in id order.
	var all []string
	tok := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 5)
		r, err := c.ListSongs(ctx, &pb.ListSongsRequest{PageSize: 2, PageToken: tok})
		require.NoError(t, err)
		require.LessOrEqual(t, len(r.GetSongs()), 2)
		all = append(all, songIDs(r.GetSongs())...)
		if tok = r.GetNextPageToken(); tok == "" {
			break
		}
	}
	require.Equal(t, []string{"clair-de-lune", "fur-elise", "gymnopedie-1", "maple-leaf-rag", "prelude-c-major"}, all)
	r, err := c.ListSongs(ctx, &pb.ListSongsRequest{Tag: "ragtime"})
	require.NoError(t, err)
	require.Equal(t, []string{"maple-leaf-rag"}, songIDs(r.GetSongs()))
	require.Empty(t, r.GetNextPageToken())

	created, err := c.CreateSong(ctx, &pb.CreateSongRequest{Song: &pb.Song{
		Id: "my-etude", Title: "My Étude", Author: "Me", Tags: []string{"etude", "ragtime"}, NoteCount: 300, DurationMs: 60000,
	}})
	require.NoError(t, err)
	require.Equal(t, 5.0, created.GetDifficulty(), "300 notes in 60 s")
	got, err := c.GetSong(ctx, &pb.GetSongRequest{SongId: "my-etude"})
	require.NoError(t, err)
	require.Equal(t, "My Étude", got.GetTitle())
	require.Equal(t, []string{"etude", "ragtime"}, got.GetTags())
	require.Equal(t, int64(300), got.GetNoteCount())
	require.Equal(t, 5.0, got.GetDifficulty())
	r, err = c.ListSongs(ctx, &pb.ListSongsRequest{Tag: "ragtime"})
	require.NoError(t, err)
	require.Equal(t, []string{"maple-leaf-rag", "my-etude"}, songIDs(r.GetSongs()))

	_, err = c.CreateSong(ctx, &pb.CreateSongRequest{Song: &pb.Song{Id: "my-etude", Title: "Again"}})
	requireRefused(t, err, codes.AlreadyExists, "ALREADY_EXISTS")

	// Without an id the song gets one; without notes no difficulty.
	anon, err := c.CreateSong(ctx, &pb.CreateSongRequest{Song: &pb.Song{Title: "Untitled"}})
	require.NoError(t, err)
	require.NotEmpty(t, anon.GetId())
	require.Zero(t, anon.GetDifficulty())

	_, err = c.GetSong(ctx, &pb.GetSongRequest{SongId: "no-such-song"})
	requireRefused(t, err, codes.NotFound, "NOT_FOUND")
}

func TestSongPlaysFavoritesAndTop(t *testing.T) {
	st := newStores(t)
	c := start(t, st, analyticssvc.Config{}).client
	ctx := ctxT(t)

	play := func(id string, n int) *pb.Song {
		t.Helper()
		var s *pb.Song
		for range n {
			var err error
			s, err = c.RecordSongPlay(ctx, &pb.RecordSongPlayRequest{SongId: id, UserId: "alice"})
			require.NoError(t, err)
		}
		return s
	}
	require.Equal(t, int64(3), play("clair-de-lune", 3).GetPlays())
	play("fur-elise", 1)
	// Plays also arrive as SONG_PLAYED events from other services.
	e := emitter(t, st)
	for range 4 {
		e.Emit(ctx, &pb.Event{Type: pb.EventType_EVENT_TYPE_SONG_PLAYED, UserId: "bob", Attributes: map[string]string{"song_id": "maple-leaf-rag"}})
	}
	e.Emit(ctx, &pb.Event{Type: pb.EventType_EVENT_TYPE_SONG_PLAYED, Attributes: map[string]string{"song_id": "not-in-catalogue"}})
	flush(t, e)
	// The RPC plays' own events reach the stream too; they count as events
	// but not as second plays.
	waitFor(t, "all song events counted", func() bool { return counts(t, c)["song_played"] == 9 })

	top, err := c.TopSongs(ctx, &pb.TopSongsRequest{})
	require.NoError(t, err)
	require.Equal(t, []string{"maple-leaf-rag", "clair-de-lune", "fur-elise"}, songIDs(top.GetSongs()))
	require.Equal(t, []int64{4, 3, 1}, []int64{top.GetSongs()[0].GetPlays(), top.GetSongs()[1].GetPlays(), top.GetSongs()[2].GetPlays()})
	require.Equal(t, 13.68, top.GetSongs()[0].GetDifficulty(), "2600 notes in 190 s")
	top, err = c.TopSongs(ctx, &pb.TopSongsRequest{Limit: 1})
	require.NoError(t, err)
	require.Equal(t, []string{"maple-leaf-rag"}, songIDs(top.GetSongs()))

	fav := func(user, id string, on bool) int64 {
		t.Helper()
		s, err := c.FavoriteSong(as(t, auth.Identity{UserID: user}), &pb.FavoriteSongRequest{SongId: id, Favorite: on})
		require.NoError(t, err)
		return s.GetFavorites()
	}
	require.Equal(t, int64(1), fav("ann", "fur-elise", true))
	require.Equal(t, int64(1), fav("ann", "fur-elise", true), "one favorite per user")
	require.Equal(t, int64(2), fav("bob", "fur-elise", true))
	require.Equal(t, int64(1), fav("ann", "fur-elise", false))
	require.Equal(t, int64(1), fav("ann", "fur-elise", false), "never below the fans left")
	require.Equal(t, int64(0), fav("bob", "fur-elise", false))
	require.Equal(t, int64(1), fav("ann", "fur-elise", true))
	s, err := c.GetSong(ctx, &pb.GetSongRequest{SongId: "fur-elise"})
	require.NoError(t, err)
	require.Equal(t, int64(1), s.GetFavorites())
	require.Equal(t, int64(1), s.GetPlays())

	_, err = c.RecordSongPlay(ctx, &pb.RecordSongPlayRequest{SongId: "not-in-catalogue"})
	requireRefused(t, err, codes.NotFound, "NOT_FOUND")
	_, err = c.FavoriteSong(ctx, &pb.FavoriteSongRequest{SongId: "not-in-catalogue", Favorite: true})
	requireRefused(t, err, codes.NotFound, "NOT_FOUND")
}

// smallCatalogue creates songs of known difficulty (notes per second):
// easy-a 2.0, easy-b 2.2, mid-c 4.0, mid-d 4.4, hard-e 10.
func smallCatalogue(t *testing.T, c pb.AnalyticsServiceClient) {
	t.Helper()
	for id, notes := range map[string]int64{"easy-a": 100, "easy-b": 110, "mid-c": 200, "mid-d": 220, "hard-e": 500} {
		_, err := c.CreateSong(ctxT(t), &pb.CreateSongRequest{Song: &pb.Song{Id: id, Title: id, NoteCount: notes, DurationMs: 50000}})
		require.NoError(t, err)
	}
}

// playSong records a play of song by user (as staff, who may record for
// anyone); accuracy > 0 also records a completion.
func playSong(t *testing.T, c pb.AnalyticsServiceClient, user, song string, accuracy float64) *pb.Song {
	t.Helper()
	s, err := c.RecordSongPlay(ctxT(t), &pb.RecordSongPlayRequest{SongId: song, UserId: user, Completed: accuracy > 0, Accuracy: accuracy})
	require.NoError(t, err)
	return s
}

// TestSongAccuracyPerSongAndPlayer: completions carry an accuracy, kept as
// a mean per song and, per player, with best and last; they arrive by
// RecordSongPlay or as SONG_COMPLETED events.
func TestSongAccuracyPerSongAndPlayer(t *testing.T) {
	st := newStores(t)
	c := start(t, st, analyticssvc.Config{NoSeed: true}).client
	ctx := ctxT(t)
	smallCatalogue(t, c)

	playSong(t, c, "ann", "easy-a", 0.9)
	s := playSong(t, c, "ann", "easy-a", 0.7)
	require.EqualValues(t, 2, s.GetPlays())
	require.EqualValues(t, 2, s.GetCompletions())
	require.InDelta(t, 0.8, s.GetAverageAccuracy(), 1e-9)
	playSong(t, c, "ann", "mid-c", 0) // started, not finished

	e := emitter(t, st)
	e.Emit(ctx, &pb.Event{Type: pb.EventType_EVENT_TYPE_SONG_COMPLETED, UserId: "bob", SongId: "easy-a", Accuracy: 1})
	e.Emit(ctx, &pb.Event{Type: pb.EventType_EVENT_TYPE_SONG_COMPLETED, UserId: "bob", SongId: "easy-a", Accuracy: 7}) // clamped to 1
	flush(t, e)
	waitFor(t, "bob's completions", func() bool {
		s, err := c.GetSong(ctx, &pb.GetSongRequest{SongId: "easy-a"})
		require.NoError(t, err)
		return s.GetCompletions() == 4
	})
	s, err := c.GetSong(ctx, &pb.GetSongRequest{SongId: "easy-a"})
	require.NoError(t, err)
	require.InDelta(t, (0.9+0.7+1+1)/4, s.GetAverageAccuracy(), 1e-9)
	require.EqualValues(t, 2, s.GetPlays(), "a completion event alone is not a play")

	r, err := c.GetPlayerSongStats(ctx, &pb.PlayerSongStatsRequest{UserId: "ann"})
	require.NoError(t, err)
	require.Len(t, r.GetStats(), 2)
	byID := map[string]*pb.PlayerSongStats{}
	for _, p := range r.GetStats() {
		byID[p.GetSongId()] = p
	}
	a := byID["easy-a"]
	require.EqualValues(t, 2, a.GetPlays())
	require.EqualValues(t, 2, a.GetCompletions())
	require.InDelta(t, 0.8, a.GetAverageAccuracy(), 1e-9)
	require.InDelta(t, 0.9, a.GetBestAccuracy(), 1e-9)
	require.InDelta(t, 0.7, a.GetLastAccuracy(), 1e-9)
	require.EqualValues(t, 1, byID["mid-c"].GetPlays())
	require.Zero(t, byID["mid-c"].GetCompletions())
	one, err := c.GetPlayerSongStats(ctx, &pb.PlayerSongStatsRequest{UserId: "bob", SongId: "easy-a"})
	require.NoError(t, err)
	require.Len(t, one.GetStats(), 1)
	require.InDelta(t, 1.0, one.GetStats()[0].GetBestAccuracy(), 1e-9)

	// The player's totals come from the same events through the stream.
	waitFor(t, "ann's totals", func() bool {
		s := stats(t, c, "ann")
		return s.GetSongsPlayed() == 3 && s.GetSongsCompleted() == 2
	})
	require.InDelta(t, 0.8, stats(t, c, "ann").GetAverageAccuracy(), 1e-9)

	_, err = c.RecordSongPlay(ctx, &pb.RecordSongPlayRequest{SongId: "easy-a", Completed: true, Accuracy: 1.5})
	requireRefused(t, err, codes.InvalidArgument, "INVALID_ARGUMENT")
	_, err = c.RecordSongPlay(ctx, &pb.RecordSongPlayRequest{SongId: "easy-a", Accuracy: 0.5})
	requireRefused(t, err, codes.InvalidArgument, "INVALID_ARGUMENT")
	_, err = c.Track(ctx, &pb.TrackRequest{Event: &pb.Event{Type: pb.EventType_EVENT_TYPE_SONG_COMPLETED, SongId: "no-such-song", Accuracy: 1}})
	requireRefused(t, err, codes.NotFound, "NOT_FOUND")
}

func recommended(t *testing.T, c pb.AnalyticsServiceClient, user string) (*pb.RecommendSongsResponse, []string) {
	t.Helper()
	r, err := c.RecommendSongs(ctxT(t), &pb.RecommendSongsRequest{UserId: user})
	require.NoError(t, err)
	var ids []string
	for _, rec := range r.GetRecommendations() {
		require.NotEmpty(t, rec.GetReason())
		ids = append(ids, rec.GetSong().GetId())
	}
	return r, ids
}

// TestRecommendationsFollowWhatTheUserPlays: a user is recommended what
// players of their songs played and liked, near their level; once they
// play it and move up, the recommendations move with them.
func TestRecommendationsFollowWhatTheUserPlays(t *testing.T) {
	st := newStores(t)
	c := start(t, st, analyticssvc.Config{NoSeed: true}).client
	smallCatalogue(t, c)
	like := func(user, song string) {
		t.Helper()
		_, err := c.FavoriteSong(as(t, auth.Identity{UserID: user}), &pb.FavoriteSongRequest{SongId: song, Favorite: true})
		require.NoError(t, err)
	}
	// p1 and p2 play what beginners play; p3 plays intermediate songs.
	for _, s := range []string{"easy-a", "easy-b", "mid-c"} {
		playSong(t, c, "p1", s, 0.9)
	}
	like("p1", "easy-b")
	for _, s := range []string{"easy-a", "easy-b", "hard-e"} {
		playSong(t, c, "p2", s, 0.95)
	}
	like("p2", "hard-e")
	playSong(t, c, "p3", "mid-c", 0.9)
	playSong(t, c, "p3", "mid-d", 0.9)
	like("p3", "mid-d")

	r, ids := recommended(t, c, "newcomer")
	require.Zero(t, r.GetLevel(), "no history")
	require.Equal(t, "easy-a", ids[0], "a newcomer starts with the easiest played song")

	playSong(t, c, "me", "easy-a", 0.9)
	r, ids = recommended(t, c, "me")
	require.Equal(t, 2.0, r.GetLevel())
	require.Equal(t, "easy-b", ids[0], "both players of easy-a played it, one liked it, and it is near my level")
	require.NotContains(t, ids, "easy-a", "not what I played")
	require.EqualValues(t, 2, r.GetRecommendations()[0].GetSimilarPlayers())
	require.Less(t, indexOf(ids, "mid-c"), indexOf(ids, "hard-e"), "hard-e is liked, but far above my level")

	playSong(t, c, "me", "easy-b", 0.92)
	playSong(t, c, "me", "mid-c", 0.85)
	r, ids = recommended(t, c, "me")
	require.Equal(t, 4.0, r.GetLevel(), "mid-c completed well")
	require.Equal(t, "mid-d", ids[0], "p3 shares mid-c with me and liked mid-d, at my new level")
	require.NotContains(t, ids, "easy-b")
	require.NotContains(t, ids, "mid-c")

	_, err := c.RecommendSongs(ctxT(t), &pb.RecommendSongsRequest{})
	requireRefused(t, err, codes.InvalidArgument, "INVALID_ARGUMENT")
}

func indexOf(ids []string, id string) int {
	for i, x := range ids {
		if x == id {
			return i
		}
	}
	return len(ids)
}
