package events

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/analytics/internal/keys"
)

// countScript counts one event unless its id was seen: the seen mark and the
// increment are one atomic step, so a crash cannot separate them.
//
// KEYS: seen mark, counts hash. ARGV: mark TTL in ms, event type name.
// Pipelines send it with EVAL (not EVALSHA): a NOSCRIPT error inside a
// pipeline would not fall back, and the script is short.
var countScript = redis.NewScript(`
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then
  redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
  return 1
end
return 0
`)

// Counts keeps the number of events per type in a Redis hash. It is safe
// for concurrent use.
type Counts struct {
	client  redis.UniversalClient
	keys    keys.Keys
	seenTTL time.Duration
}

// NewCounts returns the counts under k; seen marks live for seenTTL.
func NewCounts(client redis.UniversalClient, k keys.Keys, seenTTL time.Duration) *Counts {
	return &Counts{client: client, keys: k, seenTTL: seenTTL}
}

// Add counts evs, each once per id, in one round trip. It returns how many
// were new.
func (c *Counts) Add(ctx context.Context, evs []*pb.Event) (int, error) {
	if len(evs) == 0 {
		return 0, nil
	}
	ttl := strconv.FormatInt(c.seenTTL.Milliseconds(), 10)
	pipe := c.client.Pipeline()
	cmds := make([]*redis.Cmd, len(evs))
	for i, ev := range evs {
		cmds[i] = countScript.Eval(ctx, pipe, []string{c.keys.Seen("counts", ev.GetId()), c.keys.Counts()}, ttl, TypeName(ev.GetType()))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, fmt.Errorf("count events: %w", err)
	}
	added := 0
	for _, cmd := range cmds {
		if n, _ := cmd.Int(); n == 1 {
			added++
		}
	}
	return added, nil
}

// All returns the counts per type name.
func (c *Counts) All(ctx context.Context) (map[string]int64, error) {
	m, err := c.client.HGetAll(ctx, c.keys.Counts()).Result()
	if err != nil {
		return nil, fmt.Errorf("read event counts: %w", err)
	}
	out := make(map[string]int64, len(m))
	for k, v := range m {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("read event counts: %s: %w", k, err)
		}
		out[k] = n
	}
	return out, nil
}
