package live

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// The epoch key says Redis holds the rooms and settings restored from the
// archive (or that it never lost them): a Redis that restarted empty has
// none, and the first state replica to notice restores them (taking the
// restore lock so that only one does).

// Restored reports whether the epoch key exists.
func (s *Store) Restored(ctx context.Context) (bool, error) {
	n, err := s.rdb.Exists(ctx, s.k.Epoch()).Result()
	if err != nil {
		return false, fmt.Errorf("check restore epoch: %w", err)
	}
	return n == 1, nil
}

// LockRestore takes the restore lock for ttl; false when another replica
// holds it.
func (s *Store) LockRestore(ctx context.Context, owner string, ttl time.Duration) (bool, error) {
	ok, err := s.rdb.SetNX(ctx, s.k.RestoreLock(), owner, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("take restore lock: %w", err)
	}
	return ok, nil
}

// MarkRestored sets the epoch key and releases owner's restore lock.
func (s *Store) MarkRestored(ctx context.Context, owner string, now time.Time) error {
	err := markRestoredScript.Run(ctx, s.rdb, []string{s.k.Epoch(), s.k.RestoreLock()}, now.UnixMilli(), owner).Err()
	if err != nil && err != redis.Nil {
		return fmt.Errorf("mark restored: %w", err)
	}
	return nil
}

var markRestoredScript = redis.NewScript(`
redis.call('SET', KEYS[1], ARGV[1])
if redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('DEL', KEYS[2]) end
return 1
`)
