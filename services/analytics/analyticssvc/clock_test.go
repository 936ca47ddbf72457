package analyticssvc_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/analytics/analyticssvc"
)

// clock is the service clock a test moves by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

type scoreRow struct {
	User  string
	Score int64
}

func board(t testing.TB, c pb.AnalyticsServiceClient, metric, period string) (*pb.LeaderboardResponse, []scoreRow) {
	t.Helper()
	r, err := c.Leaderboard(ctxT(t), &pb.LeaderboardRequest{Metric: metric, Period: period})
	require.NoError(t, err)
	rows := []scoreRow{}
	for i, e := range r.GetEntries() {
		require.EqualValues(t, i+1, e.GetRank())
		rows = append(rows, scoreRow{e.GetUserId(), e.GetScore()})
	}
	return r, rows
}

// TestLeaderboardsRollOverByTheServiceClock: scores count for the day and
// the ISO week (UTC) the service clock is in when they are applied; a new
// day or week starts empty while all time keeps everything.
func TestLeaderboardsRollOverByTheServiceClock(t *testing.T) {
	st := newStores(t)
	clk := &clock{now: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)} // a Monday
	c := start(t, st, analyticssvc.Config{NoSeed: true, Now: clk.Now}).client
	ctx := ctxT(t)
	applied := 0
	play := func(user string, n int64) {
		t.Helper()
		_, err := c.Track(ctx, &pb.TrackRequest{Event: &pb.Event{Type: pb.EventType_EVENT_TYPE_NOTES, UserId: user, Count: n}})
		require.NoError(t, err)
		applied++
		// Applied under this clock before the test moves it.
		waitFor(t, "notes applied", func() bool { return counts(t, c)["notes"] == int64(applied) })
	}

	play("alice", 10)
	play("bob", 5)
	r, rows := board(t, c, "notes_played", "day")
	require.Equal(t, []scoreRow{{"alice", 10}, {"bob", 5}}, rows)
	require.Equal(t, "2026-03-02", r.GetPeriodKey())
	require.Equal(t, time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC), r.GetResetsAt().AsTime())
	r, rows = board(t, c, "notes_played", "week")
	require.Equal(t, []scoreRow{{"alice", 10}, {"bob", 5}}, rows)
	require.Equal(t, "2026-W10", r.GetPeriodKey())
	require.Equal(t, time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC), r.GetResetsAt().AsTime())

	clk.Set(time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)) // Tuesday
	_, rows = board(t, c, "notes_played", "day")
	require.Empty(t, rows, "a new day starts empty")
	play("bob", 8)
	_, rows = board(t, c, "notes_played", "day")
	require.Equal(t, []scoreRow{{"bob", 8}}, rows)
	_, rows = board(t, c, "notes_played", "week")
	require.Equal(t, []scoreRow{{"bob", 13}, {"alice", 10}}, rows)

	clk.Set(time.Date(2026, 3, 9, 0, 0, 1, 0, time.UTC)) // the next Monday
	_, rows = board(t, c, "notes_played", "week")
	require.Empty(t, rows, "a new week starts empty")
	play("carol", 1)
	_, rows = board(t, c, "notes_played", "week")
	require.Equal(t, []scoreRow{{"carol", 1}}, rows)
	_, rows = board(t, c, "notes_played", "day")
	require.Equal(t, []scoreRow{{"carol", 1}}, rows)
	r, rows = board(t, c, "notes_played", "all")
	require.Equal(t, []scoreRow{{"bob", 13}, {"alice", 10}, {"carol", 1}}, rows)
	require.Equal(t, "all", r.GetPeriodKey())
	require.Nil(t, r.GetResetsAt())
	_, def := board(t, c, "notes_played", "")
	require.Equal(t, rows, def, "no period is all time")

	_, err := c.Leaderboard(ctx, &pb.LeaderboardRequest{Metric: "notes_played", Period: "month"})
	requireRefused(t, err, codes.InvalidArgument, "INVALID_ARGUMENT")
}
