package userstats

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/analytics/internal/keys"
)

// applyScript adds one event to a user's total unless its id was seen, then
// (seen or not) brings the leaderboard and achievements up to the total.
// Doing the second part on every delivery is what makes a crash after the
// increment harmless: the redelivered event finishes the job.
//
// KEYS: seen mark, user hash, achievements hash[, leaderboard].
// ARGV: mark TTL ms, metric, delta, user id, unlock time ms,
// then pairs of (threshold, achievement id).
var applyScript = redis.NewScript(`
local v
local applied = 0
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then
  v = redis.call('HINCRBY', KEYS[2], ARGV[2], ARGV[3])
  applied = 1
else
  v = tonumber(redis.call('HGET', KEYS[2], ARGV[2]) or '0')
end
if KEYS[4] then
  redis.call('ZADD', KEYS[4], v, ARGV[4])
end
for i = 6, #ARGV, 2 do
  if v >= tonumber(ARGV[i]) then
    redis.call('HSETNX', KEYS[3], ARGV[i+1], ARGV[5])
  end
end
return applied
`)

// Store reads and writes user totals in Redis. It is safe for concurrent
// use; writes should come from the one UserStatsTracker.
type Store struct {
	client  redis.UniversalClient
	keys    keys.Keys
	seenTTL time.Duration
	now     func() time.Time
}

// NewStore returns a Store under k; seen marks live for seenTTL.
func NewStore(client redis.UniversalClient, k keys.Keys, seenTTL time.Duration, now func() time.Time) *Store {
	return &Store{client: client, keys: k, seenTTL: seenTTL, now: now}
}

// Apply adds evs to their users' totals, each once per event id, in one
// round trip. Events that change no total are skipped.
func (s *Store) Apply(ctx context.Context, evs []*pb.Event) error {
	ttl := strconv.FormatInt(s.seenTTL.Milliseconds(), 10)
	pipe := s.client.Pipeline()
	n := 0
	for _, ev := range evs {
		metric, delta, ok := effect(ev)
		if !ok {
			continue
		}
		uid := ev.GetUserId()
		ks := []string{s.keys.Seen("users", ev.GetId()), s.keys.User(uid), s.keys.Achievements(uid)}
		if IsLeaderboard(metric) {
			ks = append(ks, s.keys.Leaderboard(metric))
		}
		at := s.now()
		if ev.GetAt() != nil {
			at = ev.GetAt().AsTime()
		}
		args := append([]any{ttl, metric, delta, uid, at.UnixMilli()}, thresholds(metric)...)
		applyScript.Eval(ctx, pipe, ks, args...)
		n++
	}
	if n == 0 {
		return nil
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("apply user stats: %w", err)
	}
	return nil
}

// Stats returns a user's totals and achievements; a user with no activity
// has zero totals (not an error).
func (s *Store) Stats(ctx context.Context, uid string) (*pb.UserStats, error) {
	pipe := s.client.Pipeline()
	totals := pipe.HGetAll(ctx, s.keys.User(uid))
	unlocked := pipe.HGetAll(ctx, s.keys.Achievements(uid))
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("read stats of %s: %w", uid, err)
	}
	t := totals.Val()
	num := func(f string) int64 {
		n, _ := strconv.ParseInt(t[f], 10, 64)
		return n
	}
	out := &pb.UserStats{
		UserId:         uid,
		NotesPlayed:    num(NotesPlayed),
		ChatMessages:   num(ChatMessages),
		SecondsInRooms: num(SecondsInRooms),
		RoomsJoined:    num(RoomsJoined),
		Friends:        num(Friends),
	}
	type got struct {
		a     *pb.Achievement
		order int
	}
	var list []got
	for id, v := range unlocked.Val() {
		ms, _ := strconv.ParseInt(v, 10, 64)
		a, order, ok := byID(id)
		if !ok { // retired from the catalogue: still shown, by its id
			a, order = Achievement{ID: id, Title: id}, len(Achievements)
		}
		list = append(list, got{&pb.Achievement{Id: id, Title: a.Title, UnlockedAt: timestamppb.New(time.UnixMilli(ms))}, order})
	}
	slices.SortFunc(list, func(x, y got) int {
		if c := x.a.GetUnlockedAt().AsTime().Compare(y.a.GetUnlockedAt().AsTime()); c != 0 {
			return c
		}
		return cmp.Compare(x.order, y.order)
	})
	for _, g := range list {
		out.Achievements = append(out.Achievements, g.a)
	}
	return out, nil
}

// Leaderboard returns the top limit users of metric, highest first.
func (s *Store) Leaderboard(ctx context.Context, metric string, limit int) ([]*pb.LeaderboardEntry, error) {
	zs, err := s.client.ZRevRangeWithScores(ctx, s.keys.Leaderboard(metric), 0, int64(limit-1)).Result()
	if err != nil {
		return nil, fmt.Errorf("read leaderboard %s: %w", metric, err)
	}
	out := make([]*pb.LeaderboardEntry, len(zs))
	for i, z := range zs {
		uid, _ := z.Member.(string)
		out[i] = &pb.LeaderboardEntry{UserId: uid, Score: int64(z.Score), Rank: int32(i + 1)}
	}
	return out, nil
}
