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
