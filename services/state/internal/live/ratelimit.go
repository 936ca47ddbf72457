package live

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// hitScript counts one hit in a fixed window: INCR, and PEXPIRE when the
// window starts (or lost its TTL). Returns {count, ms left in the window}.
var hitScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if n == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
`)

// HitResult is the state of a window after a hit.
type HitResult struct {
	Allowed   bool
	Remaining int
	// RetryAfter is zero when allowed, else the time left in the window.
	RetryAfter time.Duration
}

// Hit counts a hit on key and says whether it is within limit per window.
func (s *Store) Hit(ctx context.Context, key string, limit int, window time.Duration) (HitResult, error) {
	res, err := hitScript.Run(ctx, s.rdb, []string{s.k.Hit(key)}, window.Milliseconds()).Int64Slice()
	if err != nil {
		return HitResult{}, fmt.Errorf("hit %q: %w", key, err)
	}
	n := int(res[0])
	r := HitResult{Allowed: n <= limit, Remaining: max(0, limit-n)}
	if !r.Allowed {
		r.RetryAfter = time.Duration(res[1]) * time.Millisecond
	}
	return r, nil
}
