package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/pianorhythm/server/pkg/store"
)

// Redis returns a client for the server at REDIS_URL, or for a fresh
// embedded server (with a ticking clock, so TTLs expire) when it is unset.
// Everything is closed by t.Cleanup. Prefix every key with Prefix(t).
func Redis(t testing.TB) *redis.Client {
	t.Helper()
	r, err := store.OpenRedis(context.Background(), store.RedisConfig{URL: os.Getenv("REDIS_URL")})
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r.Client
}

// MiniRedis returns an embedded server of the test's own, without the
// ticking clock, and a client for it, for tests that must control time
// (m.FastForward) or flush everything without touching a shared server.
// Both are closed by t.Cleanup.
func MiniRedis(t testing.TB) (*miniredis.Miniredis, *redis.Client) {
	t.Helper()
	m := miniredis.NewMiniRedis()
	if err := m.Start(); err != nil {
		t.Fatalf("storetest: start miniredis: %v", err)
	}
	c := redis.NewClient(&redis.Options{Addr: m.Addr()})
	t.Cleanup(func() {
		_ = c.Close()
		m.Close()
	})
	return m, c
}

// Prefix returns a key prefix unique to this call, like "t:1a2b3c4d:", so
// tests sharing one real Redis never see each other's keys. With REDIS_URL
// set, keys under the prefix are deleted at cleanup so the shared server
// does not fill up: call Prefix before starting what writes under it, so
// its cleanup runs after theirs. With PR_TEST_RUN set (make test sets it),
// the prefix is "t:<run>:1a2b3c4d:", and a check after the run finds any
// key a test left behind (internal/leftkeys).
func Prefix(t testing.TB) string {
	t.Helper()
	p := RunPrefix() + randomHex(t, 4) + ":"
	if url := os.Getenv("REDIS_URL"); url != "" {
		t.Cleanup(func() { deletePrefix(t, url, p) })
	}
	return p
}

// RunPrefix is the prefix of every key of this test run: "t:<PR_TEST_RUN>:",
// or "t:" when PR_TEST_RUN is unset.
func RunPrefix() string {
	if run := os.Getenv("PR_TEST_RUN"); run != "" {
		return "t:" + run + ":"
	}
	return "t:"
}

func deletePrefix(t testing.TB, url, prefix string) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Errorf("storetest: %v", err)
		return
	}
	c := redis.NewClient(opt)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	it := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for it.Next(ctx) {
		c.Unlink(ctx, it.Val())
	}
	if err := it.Err(); err != nil {
		t.Errorf("storetest: delete keys %s*: %v", prefix, err)
	}
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("storetest: random: %v", err)
	}
	return hex.EncodeToString(b)
}
