package analyticssvc_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/analytics/analyticssvc"
)

func unlocked(t testing.TB, s *pb.UserStats) map[string]time.Time {
	t.Helper()
	out := map[string]time.Time{}
	for _, a := range s.GetAchievements() {
		require.NotEmpty(t, a.GetTitle())
		out[a.GetId()] = a.GetUnlockedAt().AsTime()
	}
	return out
}

// settled reports whether every achievement whose threshold the totals
// reached is unlocked.
func settled(s *pb.UserStats) bool {
	for _, p := range s.GetProgress() {
		if p.GetCurrent() >= p.GetThreshold() && !p.GetUnlocked() {
			return false
		}
	}
	return true
}

// TestAchievementsUnlockAtThresholds: each achievement unlocks with the
// event that reaches its threshold, at that event's time, and only once.
func TestAchievementsUnlockAtThresholds(t *testing.T) {
	st := newStores(t)
	c := start(t, st, analyticssvc.Config{NoSeed: true}).client
	ctx := ctxT(t)
	at := func(e *pb.Event, d time.Duration) *pb.Event {
		e.At = timestamppb.New(t0.Add(d))
		return e
	}
	track := func(e *pb.Event) {
		t.Helper()
		_, err := c.Track(ctx, &pb.TrackRequest{Event: e})
		require.NoError(t, err)
	}
	// Achievements are unlocked just after the totals are stored: wait
	// for both.
	wait := func(what string, cond func(*pb.UserStats) bool) *pb.UserStats {
		t.Helper()
		var s *pb.UserStats
		waitFor(t, what, func() bool { s = stats(t, c, "alice"); return cond(s) && settled(s) })
		return s
	}

	track(at(notes("alice", 999), time.Minute))
	s := wait("999 notes", func(s *pb.UserStats) bool { return s.GetNotesPlayed() == 999 })
	require.Equal(t, map[string]time.Time{"first_note": t0.Add(time.Minute)}, unlocked(t, s))

	track(at(notes("alice", 1), 2*time.Minute))
	s = wait("1000 notes", func(s *pb.UserStats) bool { return s.GetNotesPlayed() == 1000 })
	require.Equal(t, map[string]time.Time{
		"first_note": t0.Add(time.Minute), "notes_1000": t0.Add(2 * time.Minute),
	}, unlocked(t, s), "first_note keeps its first unlock time")

	for range 99 {
		track(at(ev(pb.EventType_EVENT_TYPE_CHAT, "alice", 0), 3*time.Minute))
	}
	s = wait("99 chats", func(s *pb.UserStats) bool { return s.GetChatMessages() == 99 })
	require.NotContains(t, unlocked(t, s), "chats_100")
	require.Contains(t, unlocked(t, s), "first_chat")
	track(at(ev(pb.EventType_EVENT_TYPE_CHAT, "alice", 0), 4*time.Minute))
	s = wait("100 chats", func(s *pb.UserStats) bool { return s.GetChatMessages() == 100 })
	require.Equal(t, t0.Add(4*time.Minute), unlocked(t, s)["chats_100"])

	track(at(ev(pb.EventType_EVENT_TYPE_ROOM_LEFT, "alice", 3599), 5*time.Minute))
	s = wait("3599 s", func(s *pb.UserStats) bool { return s.GetSecondsInRooms() == 3599 })
	require.NotContains(t, unlocked(t, s), "hour_in_rooms")
	track(at(ev(pb.EventType_EVENT_TYPE_ROOM_LEFT, "alice", 1), 6*time.Minute))
	s = wait("an hour", func(s *pb.UserStats) bool { return s.GetSecondsInRooms() == 3600 })
	require.Equal(t, t0.Add(6*time.Minute), unlocked(t, s)["hour_in_rooms"])

	track(at(ev(pb.EventType_EVENT_TYPE_FRIEND_ADDED, "alice", 0), 7*time.Minute))
	s = wait("a friend", func(s *pb.UserStats) bool { return s.GetFriends() == 1 })

	// Listed in unlock order.
	var ids []string
	for _, a := range s.GetAchievements() {
		ids = append(ids, a.GetId())
	}
	require.Equal(t, []string{"first_note", "notes_1000", "first_chat", "chats_100", "hour_in_rooms", "first_friend"}, ids)
	require.Empty(t, stats(t, c, "bob").GetAchievements(), "achievements are per user")
}

// TestProgressAndUnlockNotifications: every achievement shows the user's
// progress toward it, and an unlock sends the user one UserEvent on their
// Redis channel (the edge forwards it as ServerMessage.achievement).
func TestProgressAndUnlockNotifications(t *testing.T) {
	st := newStores(t)
	c := start(t, st, analyticssvc.Config{NoSeed: true}).client
	ctx := ctxT(t)
	sub := st.rdb.Subscribe(ctx, st.prefix+"user:alice")
	defer sub.Close()
	_, err := sub.Receive(ctx) // the subscription is confirmed
	require.NoError(t, err)
	next := func() *pb.AchievementUnlocked {
		t.Helper()
		select {
		case m := <-sub.Channel():
			ev := &pb.UserEvent{}
			require.NoError(t, proto.Unmarshal([]byte(m.Payload), ev))
			require.Equal(t, "alice", ev.GetUserId())
			require.NotEmpty(t, ev.GetEventId())
			return ev.GetAchievement()
		case <-ctx.Done():
			t.Fatal("no achievement event")
			return nil
		}
	}

	s := stats(t, c, "alice")
	require.Len(t, s.GetProgress(), 10, "the whole catalogue, locked")
	for _, p := range s.GetProgress() {
		require.False(t, p.GetUnlocked())
		require.Zero(t, p.GetCurrent())
		require.Positive(t, p.GetThreshold())
		require.NotEmpty(t, p.GetMetric())
	}

	_, err = c.Track(ctx, &pb.TrackRequest{Event: notes("alice", 40)})
	require.NoError(t, err)
	got := next()
	require.Equal(t, "first_note", got.GetAchievementId())
	require.Equal(t, "First note", got.GetTitle())
	require.Equal(t, "notes_played", got.GetMetric())
	require.EqualValues(t, 1, got.GetThreshold())
	require.Equal(t, t0, got.GetUnlockedAt().AsTime())

	_, err = c.Track(ctx, &pb.TrackRequest{Event: notes("alice", 960)})
	require.NoError(t, err)
	require.Equal(t, "notes_1000", next().GetAchievementId(), "first_note is not announced twice")

	waitFor(t, "settled", func() bool { s = stats(t, c, "alice"); return s.GetNotesPlayed() == 1000 && settled(s) })
	progress := map[string]*pb.Achievement{}
	for _, p := range s.GetProgress() {
		progress[p.GetId()] = p
	}
	require.True(t, progress["notes_1000"].GetUnlocked())
	require.EqualValues(t, 1000, progress["notes_1000"].GetCurrent())
	require.False(t, progress["notes_100000"].GetUnlocked())
	require.EqualValues(t, 1000, progress["notes_100000"].GetCurrent())
	require.EqualValues(t, 100000, progress["notes_100000"].GetThreshold())
	require.False(t, progress["first_chat"].GetUnlocked())
}
