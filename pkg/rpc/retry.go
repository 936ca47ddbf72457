package rpc

import (
	"context"
	"math/rand/v2"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// idempotentPrefixes are the method-name prefixes DefaultIdempotent
// accepts: reads, and checks that change nothing.
var idempotentPrefixes = []string{
	"Get", "List", "Search", "Me", "Jwks", "Verify", "Validate", "Health",
	"Status", "Check", "Watch", "ChatHistory", "RoomMembers", "Leaderboard",
	"TopSongs", "EventCounts", "RecentLogs",
}

// DefaultIdempotent reports whether the method's name (after the last '/')
// is one of, or starts with one of followed by an upper-case letter: Get,
// List, Search, Me, Jwks, Verify, Validate, Health, Status, Check, Watch,
// ChatHistory, RoomMembers, Leaderboard, TopSongs, EventCounts, RecentLogs.
// So "GetUser" and "Me" are retried; "Merge" and "SaveUser" are not.
func DefaultIdempotent(fullMethod string) bool {
	name := shortMethod(fullMethod)
	for _, p := range idempotentPrefixes {
		if !strings.HasPrefix(name, p) {
			continue
		}
		if len(name) == len(p) || isUpper(name[len(p)]) {
			return true
		}
	}
	return false
}

func isUpper(b byte) bool { return b >= 'A' && b <= 'Z' }

// retryUnary retries idempotent calls that failed with UNAVAILABLE (the
// request did not reach a working server), with exponential backoff and
// jitter, within the call's deadline. Other codes are answers, not
// transient faults, and are returned as they are.
func retryUnary(cfg RetryConfig, idempotent func(string) bool) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if cfg.MaxAttempts <= 1 || !idempotent(method) {
			return invoker(ctx, method, req, reply, cc, opts...)
		}
		var err error
		for attempt := 0; attempt < cfg.MaxAttempts; attempt++ {
			if attempt > 0 {
				if werr := wait(ctx, backoff(cfg.Backoff, attempt)); werr != nil {
					// Keep the last real error: it says why we retried.
					return err
				}
			}
			err = invoker(ctx, method, req, reply, cc, opts...)
			if status.Code(err) != codes.Unavailable {
				return err
			}
		}
		return err
	}
}

// backoff returns base*2^(attempt-1), jittered to between half and one and
// a half times that, so callers retrying together spread out.
func backoff(base time.Duration, attempt int) time.Duration {
	d := base << (attempt - 1)
	if d <= 0 { // overflow
		d = base
	}
	return d/2 + rand.N(d)
}

func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
