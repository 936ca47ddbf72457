package pubsub

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// waitSubscribers polls until channel has want subscribers: SUBSCRIBE is
// asynchronous and Redis offers no event for it.
func waitSubscribers(t *testing.T, numSub func(ctx context.Context, channels ...string) *redis.MapStringIntCmd, channel string, want int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, err := numSub(context.Background(), channel).Result()
		if err == nil && n[channel] == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("channel %s: %v subscribers (err %v), want %d", channel, n[channel], err, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
