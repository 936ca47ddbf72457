package analyticssvc_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/track"
	"github.com/pianorhythm/server/services/analytics/analyticssvc"
)

func notes(uid string, n int64) *pb.Event {
	return &pb.Event{Type: pb.EventType_EVENT_TYPE_NOTES, UserId: uid, RoomId: "lobby", Count: n, At: timestamppb.New(t0)}
}

func ev(typ pb.EventType, uid string, n int64) *pb.Event {
	return &pb.Event{Type: typ, UserId: uid, RoomId: "lobby", Count: n, At: timestamppb.New(t0)}
}

// TestEmittedEventsReachStats: what other services emit with pkg/track
// shows in user stats, leaderboards and event counts.
func TestEmittedEventsReachStats(t *testing.T) {
	st := newStores(t)
	c := start(t, st, analyticssvc.Config{NoSeed: true}).client
	e := emitter(t, st)
	ctx := ctxT(t)

	e.Emit(ctx, ev(pb.EventType_EVENT_TYPE_LOGIN, "alice", 0))
	e.Emit(ctx, ev(pb.EventType_EVENT_TYPE_ROOM_JOINED, "alice", 0))
	e.Emit(ctx, notes("alice", 40))
	e.Emit(ctx, notes("alice", 2))
	e.Emit(ctx, notes("bob", 50))
	e.Emit(ctx, notes("carol", 7))
	e.Emit(ctx, ev(pb.EventType_EVENT_TYPE_CHAT, "alice", 0))
	e.Emit(ctx, ev(pb.EventType_EVENT_TYPE_ROOM_LEFT, "alice", 90))
	e.Emit(ctx, ev(pb.EventType_EVENT_TYPE_FRIEND_ADDED, "alice", 0))
	e.Emit(ctx, ev(pb.EventType_EVENT_TYPE_ERROR, "", 0))
	flush(t, e)

	waitFor(t, "all ten events counted", func() bool {
		var n int64
		for _, v := range counts(t, c) {
			n += v
		}
		return n == 10
	})
	require.Equal(t, map[string]int64{
		"login": 1, "room_joined": 1, "notes": 4, "chat": 1, "room_left": 1, "friend_added": 1, "error": 1,
	}, counts(t, c))

	a := stats(t, c, "alice")
	require.Equal(t, int64(42), a.GetNotesPlayed())
	require.Equal(t, int64(1), a.GetChatMessages())
	require.Equal(t, int64(90), a.GetSecondsInRooms())
	require.Equal(t, int64(1), a.GetRoomsJoined())
	require.Equal(t, int64(1), a.GetFriends())

	lb, err := c.Leaderboard(ctx, &pb.LeaderboardRequest{Metric: "notes_played"})
	require.NoError(t, err)
	require.Equal(t, []*pb.LeaderboardEntry{
		{UserId: "bob", Score: 50, Rank: 1}, {UserId: "alice", Score: 42, Rank: 2}, {UserId: "carol", Score: 7, Rank: 3},
	}, lb.GetEntries())
	lb, err = c.Leaderboard(ctx, &pb.LeaderboardRequest{Metric: "notes_played", Limit: 2})
	require.NoError(t, err)
	require.Len(t, lb.GetEntries(), 2)
	lb, err = c.Leaderboard(ctx, &pb.LeaderboardRequest{Metric: "seconds_in_rooms"})
	require.NoError(t, err)
	require.Equal(t, []*pb.LeaderboardEntry{{UserId: "alice", Score: 90, Rank: 1}}, lb.GetEntries())

	// A user with no activity has zero stats.
	z := stats(t, c, "nobody")
	require.Zero(t, z.GetNotesPlayed())
	require.Empty(t, z.GetAchievements())
	waitFor(t, "everything applied is acknowledged", func() bool { return pending(t, st) == 0 })
}

// TestDuplicateDeliveryCountsOnce: the same event (same id) on the stream
// twice, through Track twice, and a Track retry all count once.
func TestDuplicateDeliveryCountsOnce(t *testing.T) {
	st := newStores(t)
	c := start(t, st, analyticssvc.Config{NoSeed: true}).client
	ctx := ctxT(t)

	first := notes("alice", 10)
	first.Id = "ev-1"
	e := emitter(t, st)
	e.Emit(ctx, proto.Clone(first).(*pb.Event))
	e.Emit(ctx, proto.Clone(first).(*pb.Event))
	flush(t, e)
	for range 2 {
		_, err := c.Track(ctx, &pb.TrackRequest{Event: proto.Clone(first).(*pb.Event)})
		require.NoError(t, err)
	}
	second := ev(pb.EventType_EVENT_TYPE_CHAT, "alice", 0)
	second.Id = "ev-2"
	for range 3 {
		_, err := c.Track(ctx, &pb.TrackRequest{Event: proto.Clone(second).(*pb.Event)})
		require.NoError(t, err)
	}
	n, err := st.rdb.XLen(ctx, st.stream).Result()
	require.NoError(t, err)
	require.Equal(t, int64(7), n, "seven entries on the stream")

	last, err := st.rdb.XRevRangeN(ctx, st.stream, "+", "-", 1).Result()
	require.NoError(t, err)
	waitFor(t, "all entries handled", func() bool {
		info, err := st.rdb.XInfoGroups(ctx, st.stream).Result()
		require.NoError(t, err)
		return len(info) == 1 && info[0].LastDeliveredID == last[0].ID && pending(t, st) == 0
	})
	require.Equal(t, map[string]int64{"notes": 1, "chat": 1}, counts(t, c))
	a := stats(t, c, "alice")
	require.Equal(t, int64(10), a.GetNotesPlayed())
	require.Equal(t, int64(1), a.GetChatMessages())
}

// TestNothingLostWhileStopped: events written before the service ever ran
// and while it was stopped are processed when it starts.
func TestNothingLostWhileStopped(t *testing.T) {
	st := newStores(t)
	ctx := ctxT(t)
	emit := func(n int) {
		e := emitter(t, st)
		for range n {
			e.Emit(ctx, notes("alice", 1))
		}
		flush(t, e)
	}

	emit(3) // before the consumer group exists
	first := start(t, st, analyticssvc.Config{NoSeed: true})
	waitFor(t, "3 notes", func() bool { return stats(t, first.client, "alice").GetNotesPlayed() == 3 })
	first.stop()

	emit(5) // while stopped
	second := start(t, st, analyticssvc.Config{NoSeed: true})
	waitFor(t, "8 notes", func() bool { return stats(t, second.client, "alice").GetNotesPlayed() == 8 })
	emit(2) // while running
	waitFor(t, "10 notes", func() bool { return stats(t, second.client, "alice").GetNotesPlayed() == 10 })
	// Acknowledged after applying: wait for it, then nothing was counted twice.
	waitFor(t, "all acknowledged", func() bool { return pending(t, st) == 0 })
	require.Equal(t, int64(10), counts(t, second.client)["notes"])
}

// TestRestartAfterApplyBeforeAck: a service that applied entries and died
// before acknowledging them leaves them pending; the next start claims
// them (from another consumer, or as its own under the same name) and
// does not count them again.
func TestRestartAfterApplyBeforeAck(t *testing.T) {
	for _, tc := range []struct {
		name           string
		first, restart string
	}{
		{name: "claimed from a dead consumer", first: "replica-a", restart: "replica-b"},
		{name: "own pending entries", first: "replica-a", restart: "replica-a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newStores(t)
			ctx := ctxT(t)
			crashed := start(t, st, analyticssvc.WithoutAck(analyticssvc.Config{Consumer: tc.first}))
			e := emitter(t, st)
			for i := range 20 {
				e.Emit(ctx, notes(fmt.Sprint("u", i%4), 5))
			}
			e.Emit(ctx, &pb.Event{Type: pb.EventType_EVENT_TYPE_SONG_PLAYED, UserId: "u0", Attributes: map[string]string{"song_id": "fur-elise"}})
			flush(t, e)
			waitFor(t, "applied", func() bool {
				return counts(t, crashed.client)["notes"] == 20 && counts(t, crashed.client)["song_played"] == 1
			})
			require.Equal(t, int64(21), pending(t, st), "applied but not acknowledged")
			crashed.stop()

			// ClaimIdle 1ms: the dead consumer's entries are stale at once.
			c := start(t, st, analyticssvc.Config{Consumer: tc.restart, ClaimIdle: time.Millisecond}).client
			waitFor(t, "claimed and acknowledged", func() bool { return pending(t, st) == 0 })

			require.Equal(t, map[string]int64{"notes": 20, "song_played": 1}, counts(t, c))
			for i := range 4 {
				require.Equal(t, int64(25), stats(t, c, fmt.Sprint("u", i)).GetNotesPlayed())
			}
			lb, err := c.Leaderboard(ctx, &pb.LeaderboardRequest{Metric: "notes_played"})
			require.NoError(t, err)
			require.Len(t, lb.GetEntries(), 4)
			for _, en := range lb.GetEntries() {
				require.Equal(t, int64(25), en.GetScore())
			}
			song, err := c.GetSong(ctx, &pb.GetSongRequest{SongId: "fur-elise"})
			require.NoError(t, err)
			require.Equal(t, int64(1), song.GetPlays())
		})
	}
}

// TestMalformedEntryIsAcknowledged: an entry that is not an event cannot
// block the group.
func TestMalformedEntryIsAcknowledged(t *testing.T) {
	st := newStores(t)
	c := start(t, st, analyticssvc.Config{NoSeed: true}).client
	ctx := ctxT(t)
	require.NoError(t, st.rdb.XAdd(ctx, &redis.XAddArgs{Stream: st.stream, Values: []any{track.FieldEvent, "\xff\xff not protobuf"}}).Err())
	require.NoError(t, st.rdb.XAdd(ctx, &redis.XAddArgs{Stream: st.stream, Values: []any{"other", "x"}}).Err())
	_, err := c.Track(ctx, &pb.TrackRequest{Event: notes("alice", 3)})
	require.NoError(t, err)
	waitFor(t, "valid event applied", func() bool { return stats(t, c, "alice").GetNotesPlayed() == 3 })
	waitFor(t, "all acknowledged", func() bool { return pending(t, st) == 0 })
}

// TestEventsWithoutScoresApplyAtOnce: a batch of events that move no
// leaderboard (a join, a login) is applied on its first attempt, not only
// when the stream hands it out again after ClaimIdle.
func TestEventsWithoutScoresApplyAtOnce(t *testing.T) {
	st := newStores(t)
	c := start(t, st, analyticssvc.Config{NoSeed: true, ClaimIdle: time.Hour}).client
	e := emitter(t, st)
	ctx := ctxT(t)

	first := emitter(t, st)
	first.Emit(ctx, notes("alice", 3)) // a leaderboard score exists
	flush(t, first)
	waitFor(t, "the notes counted", func() bool { return counts(t, c)["notes"] == 1 })

	e.Emit(ctx, ev(pb.EventType_EVENT_TYPE_ROOM_JOINED, "alice", 0))
	flush(t, e)
	waitFor(t, "the join counted and acknowledged", func() bool {
		return counts(t, c)["room_joined"] == 1 && pending(t, st) == 0
	})
	require.Equal(t, int64(1), stats(t, c, "alice").GetRoomsJoined())
}
