package store_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/pianorhythm/server/pkg/store"
	"github.com/pianorhythm/server/pkg/store/storetest"
)

func TestRedisKeyWithTTLExpires(t *testing.T) {
	ctx := context.Background()
	c := storetest.Redis(t)
	key := storetest.Prefix(t) + "ttl"

	require.NoError(t, c.Set(ctx, key, "v", 300*time.Millisecond).Err())
	n, err := c.Exists(ctx, key).Result()
	require.NoError(t, err)
	require.EqualValues(t, 1, n, "key must exist before its TTL")

	// Embedded: only the ticker advances the clock, nothing in this test does.
	require.Eventually(t, func() bool {
		n, err := c.Exists(ctx, key).Result()
		return err == nil && n == 0
	}, 5*time.Second, 50*time.Millisecond, "key with a 300ms TTL still there after 5s")
}

func TestRedisPubSubDelivers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := storetest.Redis(t)
	channel := storetest.Prefix(t) + "room:1"

	sub := c.Subscribe(ctx, channel)
	defer sub.Close()
	// Wait for the subscription to be confirmed, or the publish can race it.
	_, err := sub.Receive(ctx)
	require.NoError(t, err)

	n, err := c.Publish(ctx, channel, "hello").Result()
	require.NoError(t, err)
	require.EqualValues(t, 1, n, "subscribers that got the message")

	msg, err := sub.ReceiveMessage(ctx)
	require.NoError(t, err)
	require.Equal(t, channel, msg.Channel)
	require.Equal(t, "hello", msg.Payload)
}

func TestRedisStreamConsumerGroupReadsAndAcks(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := storetest.Redis(t)
	stream := storetest.Prefix(t) + "events"

	require.NoError(t, c.XGroupCreateMkStream(ctx, stream, "g", "0").Err())
	id, err := c.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: map[string]any{"event": "x"}}).Result()
	require.NoError(t, err)

	res, err := c.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group: "g", Consumer: "c1", Streams: []string{stream, ">"}, Count: 10, Block: time.Second,
	}).Result()
	require.NoError(t, err)
	require.Len(t, res, 1)
	require.Len(t, res[0].Messages, 1)
	require.Equal(t, id, res[0].Messages[0].ID)
	require.Equal(t, "x", res[0].Messages[0].Values["event"])

	pending, err := c.XPending(ctx, stream, "g").Result()
	require.NoError(t, err)
	require.EqualValues(t, 1, pending.Count, "read but not acked")

	require.NoError(t, c.XAck(ctx, stream, "g", id).Err())
	pending, err = c.XPending(ctx, stream, "g").Result()
	require.NoError(t, err)
	require.EqualValues(t, 0, pending.Count, "pending after ack")
}

func TestOpenRedisErrors(t *testing.T) {
	port := freePort(t)
	tests := []struct {
		name string
		url  string
		want []string
	}{
		{"unreachable", fmt.Sprintf("redis://127.0.0.1:%d/0", port),
			[]string{fmt.Sprintf("redis at 127.0.0.1:%d: ", port), "connection refused"}},
		{"not a url", "http://localhost:6379", []string{"parse redis url"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			r, err := store.OpenRedis(context.Background(), store.RedisConfig{URL: tt.url})
			if err == nil {
				_ = r.Close()
				t.Fatal("OpenRedis succeeded")
			}
			t.Logf("error: %v (after %v)", err, time.Since(start))
			for _, w := range tt.want {
				require.Contains(t, err.Error(), w)
			}
			require.NotContains(t, err.Error(), "\n", "one line")
		})
	}
}

func TestOpenRedisEmbeddedCloseTwice(t *testing.T) {
	r, err := store.OpenRedis(context.Background(), store.RedisConfig{TickInterval: time.Millisecond})
	require.NoError(t, err)
	require.True(t, r.Embedded)
	require.NoError(t, r.Client.Ping(context.Background()).Err())
	require.NoError(t, r.Close())
	require.NoError(t, r.Close())
	err = r.Client.Ping(context.Background()).Err()
	require.True(t, errors.Is(err, redis.ErrClosed), "ping after close: %v", err)
}

func TestOpenRedisRejectsNegativeTick(t *testing.T) {
	_, err := store.OpenRedis(context.Background(), store.RedisConfig{TickInterval: -time.Second})
	require.Error(t, err)
	require.True(t, strings.Contains(err.Error(), "tick interval"), err.Error())
}

// freePort returns a loopback port that nothing listens on (just closed).
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}

func itoa(i int) string { return strconv.Itoa(i) }
