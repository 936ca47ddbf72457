package live

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// hitScript counts one hit in the window that started with the first hit
// (a hash of start and count). Time is the caller's ARGV[1] (ms), not
// Redis's: the window follows the service's clock, and the key's TTL only
// collects it once the window is over. With ARGV[3] = '1' it counts
// nothing and returns what the count would be after one more hit.
// Returns {count, window start}.
var hitScript = redis.NewScript(`
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local start = tonumber(redis.call('HGET', KEYS[1], 'start'))
if ARGV[3] == '1' then
  if start == nil or now - start >= window or now < start then return {1, now} end
  return {tonumber(redis.call('HGET', KEYS[1], 'n')) + 1, start}
end
if start == nil or now - start >= window or now < start then
  redis.call('HSET', KEYS[1], 'start', now, 'n', 1)
  redis.call('PEXPIRE', KEYS[1], window + 1000)
  return {1, now}
end
return {redis.call('HINCRBY', KEYS[1], 'n', 1), start}
`)

// HitResult is the state of a window after a hit.
type HitResult struct {
	Allowed   bool
	Remaining int
	// RetryAfter is zero when allowed, else the time left in the window.
	RetryAfter time.Duration
}

// Hit counts a hit on key at now (with peek, only says what one would
// give) and says whether it is within limit per window, a window starting
// with the first hit. The service's clock, not
// Redis's, decides when a window ends, so a test's clock moves it.
func (s *Store) Hit(ctx context.Context, key string, limit int, window time.Duration, now time.Time, peek bool) (HitResult, error) {
	res, err := hitScript.Run(ctx, s.rdb, []string{s.k.Hit(key)}, now.UnixMilli(), window.Milliseconds(), flag(peek)).Int64Slice()
	if err != nil {
		return HitResult{}, fmt.Errorf("hit %q: %w", key, err)
	}
	n := int(res[0])
	r := HitResult{Allowed: n <= limit, Remaining: max(0, limit-n)}
	if !r.Allowed {
		r.RetryAfter = time.Duration(res[1]+window.Milliseconds()-now.UnixMilli()) * time.Millisecond
	}
	return r, nil
}
