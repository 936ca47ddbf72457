// Command leftkeys fails when a test run left keys in a real Redis: it
// counts the keys under -prefix (make test passes "t:<PR_TEST_RUN>:", the
// prefix storetest.Prefix gives every test of the run) in the server of
// REDIS_URL, lists some with their TTL, deletes them so the next run starts
// clean, and exits 1 if there were any. Without REDIS_URL there is nothing
// to check: the tests used embedded servers.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/redis/go-redis/v9"
)

func main() {
	prefix := flag.String("prefix", "", `key prefix of the test run, e.g. "t:1764230400:"`)
	show := flag.Int("show", 20, "how many of the left keys to list")
	flag.Parse()
	if err := run(*prefix, *show); err != nil {
		fmt.Fprintln(os.Stderr, "leftkeys:", err)
		os.Exit(1)
	}
}

func run(prefix string, show int) error {
	url := os.Getenv("REDIS_URL")
	if url == "" {
		return nil
	}
	if len(prefix) < 3 {
		return errors.New("-prefix is required (the run's own, never all keys)")
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		return fmt.Errorf("REDIS_URL: %w", err)
	}
	c := redis.NewClient(opt)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var left []string
	it := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for it.Next(ctx) {
		left = append(left, it.Val())
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("scan %s*: %w", prefix, err)
	}
	if len(left) == 0 {
		fmt.Printf("leftkeys: no key left under %s\n", prefix)
		return nil
	}
	noTTL := 0
	for i, k := range left {
		ttl, _ := c.PTTL(ctx, k).Result()
		if ttl < 0 {
			noTTL++
		}
		if i < show {
			fmt.Fprintf(os.Stderr, "  %s (ttl %v)\n", k, ttl)
		}
	}
	if err := c.Unlink(ctx, left...).Err(); err != nil {
		return fmt.Errorf("delete the left keys: %w", err)
	}
	return fmt.Errorf("the tests left %d keys under %s (%d without expiry; listed above, now deleted): a test writes to Redis without storetest.Prefix or closes its system after the prefix is deleted", len(left), prefix, noTTL)
}
