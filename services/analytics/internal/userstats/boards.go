package userstats

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/analytics/internal/keys"
)

// cacheTop is how many of a leaderboard's best scores a rebuild loads into
// Redis. Scores only grow, and every update writes the user's score, so a
// user outside the loaded top can only enter it through an update: the
// cache's top 100 (the most a request may ask) is always right.
const cacheTop = 1000

// Boards are the leaderboards: scores in MongoDB (ScoresCollection), read
// through sorted sets in Redis that are rebuilt from MongoDB when missing
// (a Redis that came back empty, or a period nobody asked for yet). It is
// safe for concurrent use.
type Boards struct {
	rdb    redis.UniversalClient
	keys   keys.Keys
	scores *mongo.Collection
}

// NewBoards returns the leaderboards over db's scores and rdb's cache.
func NewBoards(rdb redis.UniversalClient, k keys.Keys, db *mongo.Database) *Boards {
	return &Boards{rdb: rdb, keys: k, scores: db.Collection(ScoresCollection)}
}

// Update writes stored scores into the cache. ZADD GT keeps the highest
// value seen, so an update racing a rebuild, or two replicas writing in any
// order, leave the stored (largest) score.
func (b *Boards) Update(ctx context.Context, scores []scoreDoc) error {
	if len(scores) == 0 {
		return nil
	}
	pipe := b.rdb.Pipeline()
	for _, s := range scores {
		key := b.keys.Leaderboard(s.Metric, s.Period, s.Key)
		pipe.ZAddGT(ctx, key, redis.Z{Score: float64(s.Score), Member: s.User})
		if ttl := Period(s.Period).cacheTTL(); ttl > 0 {
			pipe.Expire(ctx, key, ttl)
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("update leaderboard cache: %w", err)
	}
	return nil
}

// Top returns the best limit scores of metric in period key.
func (b *Boards) Top(ctx context.Context, metric string, p Period, key string, limit int) ([]*pb.LeaderboardEntry, error) {
	zkey := b.keys.Leaderboard(metric, string(p), key)
	ready, err := b.rdb.Exists(ctx, b.keys.LeaderboardReady(metric, string(p), key)).Result()
	if err != nil {
		return nil, fmt.Errorf("read leaderboard %s: %w", zkey, err)
	}
	if ready == 0 {
		if err := b.rebuild(ctx, metric, p, key); err != nil {
			return nil, err
		}
	}
	zs, err := b.rdb.ZRevRangeWithScores(ctx, zkey, 0, int64(limit-1)).Result()
	if err != nil {
		return nil, fmt.Errorf("read leaderboard %s: %w", zkey, err)
	}
	out := make([]*pb.LeaderboardEntry, len(zs))
	for i, z := range zs {
		uid, _ := z.Member.(string)
		out[i] = &pb.LeaderboardEntry{UserId: uid, Score: int64(z.Score), Rank: int32(i + 1)}
	}
	return out, nil
}

// rebuild loads the best stored scores into the cache and marks it ready.
func (b *Boards) rebuild(ctx context.Context, metric string, p Period, key string) error {
	cur, err := b.scores.Find(ctx,
		bson.D{{Key: "m", Value: metric}, {Key: "p", Value: string(p)}, {Key: "k", Value: key}},
		options.Find().SetSort(bson.D{{Key: "s", Value: -1}}).SetLimit(cacheTop))
	if err != nil {
		return fmt.Errorf("rebuild leaderboard %s %s %s: %w", metric, p, key, err)
	}
	var scores []scoreDoc
	if err := cur.All(ctx, &scores); err != nil {
		return fmt.Errorf("rebuild leaderboard %s %s %s: %w", metric, p, key, err)
	}
	if err := b.Update(ctx, scores); err != nil {
		return err
	}
	ttl := p.cacheTTL()
	if err := b.rdb.Set(ctx, b.keys.LeaderboardReady(metric, string(p), key), strconv.Itoa(len(scores)), ttl).Err(); err != nil {
		return fmt.Errorf("mark leaderboard %s %s %s: %w", metric, p, key, err)
	}
	return nil
}
