package pubsub

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// WatcherConfig configures a Watcher.
type WatcherConfig struct {
	// Interval is the time between two PINGs. Zero value means 500ms.
	Interval time.Duration
	// Timeout bounds one PING. Zero value means Interval.
	Timeout time.Duration
	// OnChange is called, from the Watcher's goroutine, with false when
	// Redis stops answering and with true when it answers again or turns
	// out to be another server process than before (restarted between two
	// checks, so its data may be gone); nil means nobody is told.
	OnChange func(up bool)
}

// Watcher checks Redis on an interval and knows whether it answers, so the
// edge can refuse what needs Redis at once while it is down and restore its
// subscriptions and registration when it is back. It asks INFO server for
// the server's run_id, which tells a restart that happened between two
// checks; a server without it (miniredis) gets PING. Up is safe for
// concurrent use; Close stops the goroutine and waits.
type Watcher struct {
	rdb    redis.UniversalClient
	cfg    WatcherConfig
	up     atomic.Bool
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// Owned by the Watcher's goroutine.
	noInfo bool   // the server refused INFO server
	runID  string // of the server last seen
}

// NewWatcher starts watching; Redis counts as up until a PING fails.
func NewWatcher(rdb redis.UniversalClient, cfg WatcherConfig) *Watcher {
	if cfg.Interval <= 0 {
		cfg.Interval = 500 * time.Millisecond
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = cfg.Interval
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &Watcher{rdb: rdb, cfg: cfg, cancel: cancel}
	w.up.Store(true)
	w.wg.Go(func() { w.run(ctx) })
	return w
}

// Up reports whether the last PING was answered.
func (w *Watcher) Up() bool { return w.up.Load() }

func (w *Watcher) run(ctx context.Context) {
	t := time.NewTicker(w.cfg.Interval)
	defer t.Stop()
	for {
		pctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
		runID, err := w.check(pctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		up := err == nil
		changed := w.up.Swap(up) != up
		if up && runID != "" {
			changed = changed || (w.runID != "" && runID != w.runID)
			w.runID = runID
		}
		if changed && w.cfg.OnChange != nil {
			w.cfg.OnChange(up)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Close stops the watcher and waits for its goroutine.
func (w *Watcher) Close() {
	w.cancel()
	w.wg.Wait()
}

// check asks the server for its run_id ("" when it cannot say).
func (w *Watcher) check(ctx context.Context) (string, error) {
	if !w.noInfo {
		info, err := w.rdb.Info(ctx, "server").Result()
		if err == nil {
			for line := range strings.Lines(info) {
				if id, ok := strings.CutPrefix(strings.TrimSpace(line), "run_id:"); ok {
					return id, nil
				}
			}
			return "", nil
		}
		var refused redis.Error
		if !errors.As(err, &refused) {
			return "", err // no answer
		}
		w.noInfo = true
	}
	return "", w.rdb.Ping(ctx).Err()
}
