package live

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Heartbeat marks an edge instance alive for ttl: a key with that TTL and
// its expiry in the instance index. known reports whether the key was
// there before (false after it expired or Redis lost it).
func (s *Store) Heartbeat(ctx context.Context, instanceID string, ttl time.Duration, now time.Time) (known bool, err error) {
	var existed *redis.IntCmd
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		existed = p.Exists(ctx, s.k.Instance(instanceID))
		p.Set(ctx, s.k.Instance(instanceID), now.UnixMilli(), ttl)
		p.ZAdd(ctx, s.k.Instances(), redis.Z{Score: float64(now.Add(ttl).UnixMilli()), Member: instanceID})
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("heartbeat of %q: %w", instanceID, err)
	}
	return existed.Val() == 1, nil
}

// Instances lists the instances whose heartbeat has not expired, pruning
// expired ones from the index.
func (s *Store) Instances(ctx context.Context, now time.Time) ([]string, error) {
	ms := strconv.FormatInt(now.UnixMilli(), 10)
	var live *redis.StringSliceCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZRemRangeByScore(ctx, s.k.Instances(), "-inf", ms)
		live = p.ZRange(ctx, s.k.Instances(), 0, -1)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list instances: %w", err)
	}
	return live.Val(), nil
}

// PresenceInstances lists the instances holding presence records.
func (s *Store) PresenceInstances(ctx context.Context) ([]string, error) {
	ids, err := s.rdb.SMembers(ctx, s.k.PresenceInstances()).Result()
	if err != nil {
		return nil, fmt.Errorf("list presence instances: %w", err)
	}
	return ids, nil
}
