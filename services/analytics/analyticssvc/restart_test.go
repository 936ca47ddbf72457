package analyticssvc_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/store/storetest"
	"github.com/pianorhythm/server/services/analytics/analyticssvc"
)

// figures reads everything a user or operator can read, as JSON per call.
func figures(t *testing.T, c pb.AnalyticsServiceClient, users []string) map[string]string {
	t.Helper()
	ctx := ctxT(t)
	out := map[string]string{}
	put := func(name string, m proto.Message, err error) {
		t.Helper()
		require.NoError(t, err, name)
		b, err := protojson.MarshalOptions{Multiline: true}.Marshal(m)
		require.NoError(t, err)
		out[name] = string(b)
	}
	for _, u := range users {
		s, err := c.GetUserStats(ctx, &pb.UserStatsRequest{UserId: u})
		put("stats "+u, s, err)
		p, err := c.GetPlayerSongStats(ctx, &pb.PlayerSongStatsRequest{UserId: u})
		put("songs "+u, p, err)
		r, err := c.RecommendSongs(ctx, &pb.RecommendSongsRequest{UserId: u})
		put("recommendations "+u, r, err)
	}
	for _, m := range []string{"notes_played", "chat_messages", "seconds_in_rooms", "songs_completed"} {
		for _, p := range []string{"day", "week", "all"} {
			r, err := c.Leaderboard(ctx, &pb.LeaderboardRequest{Metric: m, Period: p})
			put("leaderboard "+m+" "+p, r, err)
		}
	}
	ec, err := c.EventCounts(ctx, &pb.EventCountsRequest{})
	put("event counts", ec, err)
	ls, err := c.ListSongs(ctx, &pb.ListSongsRequest{})
	put("songs", ls, err)
	top, err := c.TopSongs(ctx, &pb.TopSongsRequest{})
	put("top songs", top, err)
	return out
}

// TestRestartOnAnEmptyRedisKeepsEveryFigure is the all-in-one program's
// restart on its embedded stores: MongoDB keeps its files, Redis starts
// empty. Every figure reads back unchanged, leaderboards are rebuilt from
// MongoDB, and events delivered again with the same ids do not count
// twice.
func TestRestartOnAnEmptyRedisKeepsEveryFigure(t *testing.T) {
	clk := &clock{now: time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)}
	cfg := analyticssvc.Config{Now: clk.Now}
	first := newStores(t)
	a := start(t, first, cfg)
	c := a.client
	ctx := ctxT(t)

	var sent []*pb.Event
	e := emitter(t, first)
	emit := func(ev *pb.Event) {
		sent = append(sent, proto.Clone(ev).(*pb.Event))
		e.Emit(ctx, ev)
	}
	for i, u := range []string{"ann", "bob", "cid"} {
		emit(&pb.Event{Id: "login-" + u, Type: pb.EventType_EVENT_TYPE_LOGIN, UserId: u})
		emit(&pb.Event{Id: "notes-" + u, Type: pb.EventType_EVENT_TYPE_NOTES, UserId: u, Count: int64(100 * (i + 1))})
		emit(&pb.Event{Id: "chat-" + u, Type: pb.EventType_EVENT_TYPE_CHAT, UserId: u, RoomId: "lobby"})
		emit(&pb.Event{Id: "left-" + u, Type: pb.EventType_EVENT_TYPE_ROOM_LEFT, UserId: u, RoomId: "lobby", Count: 60})
	}
	emit(&pb.Event{Id: "friend-ann", Type: pb.EventType_EVENT_TYPE_FRIEND_ADDED, UserId: "ann", Attributes: map[string]string{"friend_id": "bob"}})
	emit(&pb.Event{Id: "friend-bob", Type: pb.EventType_EVENT_TYPE_FRIEND_ADDED, UserId: "bob", Attributes: map[string]string{"friend_id": "ann"}})
	emit(&pb.Event{Id: "done-cid", Type: pb.EventType_EVENT_TYPE_SONG_COMPLETED, UserId: "cid", SongId: "fur-elise", Accuracy: 0.75})
	flush(t, e)
	playSong(t, c, "ann", "fur-elise", 0.9)
	playSong(t, c, "bob", "fur-elise", 0.8)
	playSong(t, c, "bob", "gymnopedie-1", 0.95)
	_, err := c.FavoriteSong(as(t, auth.Identity{UserID: "bob"}), &pb.FavoriteSongRequest{SongId: "gymnopedie-1", Favorite: true})
	require.NoError(t, err)
	waitFor(t, "every event applied and acknowledged", func() bool {
		return counts(t, c)["song_completed"] == 4 && stats(t, c, "bob").GetSongsCompleted() == 2 && pending(t, first) == 0 &&
			settled(stats(t, c, "ann")) && settled(stats(t, c, "bob")) && settled(stats(t, c, "cid"))
	})
	users := []string{"ann", "bob", "cid", "newcomer"}
	before := figures(t, c, users)
	require.EqualValues(t, 100, stats(t, c, "ann").GetNotesPlayed())
	_, day := board(t, c, "notes_played", "day")
	require.Equal(t, []scoreRow{{"cid", 300}, {"bob", 200}, {"ann", 100}}, day)
	a.stop()

	// The same MongoDB, a Redis of its own that has never seen the service.
	_, fresh := storetest.MiniRedis(t)
	second := stores{rdb: fresh, db: first.db, prefix: first.prefix, stream: first.stream}
	b := start(t, second, cfg)
	after := figures(t, b.client, users)
	for name, want := range before {
		require.Equal(t, want, after[name], name)
	}

	// An emitter that retries into the new Redis: the same ids count once.
	e = emitter(t, second)
	for _, ev := range sent {
		e.Emit(ctx, ev)
	}
	flush(t, e)
	last, err := fresh.XRevRangeN(ctx, second.stream, "+", "-", 1).Result()
	require.NoError(t, err)
	waitFor(t, "the redelivered events are read and acknowledged", func() bool {
		info, err := fresh.XInfoGroups(ctx, second.stream).Result()
		require.NoError(t, err)
		return len(info) == 1 && info[0].LastDeliveredID == last[0].ID && pending(t, second) == 0
	})
	again := figures(t, b.client, users)
	for name, want := range before {
		require.Equal(t, want, again[name], name)
	}
}
