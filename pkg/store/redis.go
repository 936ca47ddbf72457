package store

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"
)

// pingTimeout bounds the connection check in OpenRedis and OpenMongo, so a
// wrong address fails start-up within seconds instead of hanging.
const pingTimeout = 5 * time.Second

// RedisConfig configures OpenRedis.
type RedisConfig struct {
	// URL is a redis:// or rediss:// URL (parsed with redis.ParseURL).
	// Zero value means an embedded in-process server (miniredis).
	URL string
	// TickInterval is how often the embedded server's clock is advanced so
	// that keys with a TTL expire; ignored for a real server.
	// Zero value means 100ms.
	TickInterval time.Duration
	// TracerProvider records one span per command (go-redis's redisotel),
	// only inside a trace the caller already started. Zero value means the
	// otel global provider (set by telemetry.Install).
	TracerProvider trace.TracerProvider
}

func (c RedisConfig) withDefaults() RedisConfig {
	if c.TickInterval == 0 {
		c.TickInterval = 100 * time.Millisecond
	}
	return c
}

// Validate reports a configuration that OpenRedis cannot use.
func (c RedisConfig) Validate() error {
	if c.TickInterval < 0 {
		return errors.New("redis tick interval must not be negative")
	}
	return nil
}

// Redis is an open Redis connection pool, real or embedded.
// It is safe for concurrent use; Close it once when done.
type Redis struct {
	// Client is the connection pool; it is closed by Close.
	Client *redis.Client
	// Embedded is true when the server is an in-process miniredis.
	Embedded bool
	// Addr is the server's host:port.
	Addr string

	mini *miniredis.Miniredis
	stop chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

// OpenRedis connects to the Redis server at cfg.URL, or starts an embedded
// one when cfg.URL is empty, and checks the connection with PING.
// For an embedded server it owns a goroutine that advances the server's
// clock every cfg.TickInterval; Close stops it.
func OpenRedis(ctx context.Context, cfg RedisConfig) (*Redis, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.URL == "" {
		return openEmbeddedRedis(ctx, cfg)
	}
	opt, err := redis.ParseURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("parse redis url: %w", err)
	}
	// Dial once ourselves first: go-redis logs every failed dial attempt of
	// its retries to its package-level logger, so an unreachable server
	// would otherwise print several lines besides the one error we return.
	dctx, cancel := context.WithTimeout(ctx, pingTimeout)
	conn, err := (&net.Dialer{}).DialContext(dctx, opt.Network, opt.Addr)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("redis at %s: %w", opt.Addr, err)
	}
	_ = conn.Close()
	failFast(opt)
	r := &Redis{Client: redis.NewClient(opt), Addr: opt.Addr}
	if err := instrumentRedis(r.Client, cfg.TracerProvider); err != nil {
		_ = r.Client.Close()
		return nil, err
	}
	if err := r.ping(ctx); err != nil {
		_ = r.Client.Close()
		return nil, err
	}
	return r, nil
}

// failFast makes commands fail within a fraction of a second while Redis
// is down, instead of go-redis's defaults (five dial attempts, three
// retries with backoff: seconds per command), so callers answer
// UNAVAILABLE at once; one retry still covers a connection Redis closed
// (a restart). Settings the URL gives (dial_timeout, max_retries, ...) win.
func failFast(opt *redis.Options) {
	if opt.DialTimeout == 0 {
		opt.DialTimeout = time.Second
	}
	if opt.DialerRetries == 0 {
		opt.DialerRetries = 1
	}
	if opt.MaxRetries == 0 {
		opt.MaxRetries = 1
	}
	if opt.MaxRetryBackoff == 0 {
		opt.MaxRetryBackoff = 100 * time.Millisecond
	}
}

func openEmbeddedRedis(ctx context.Context, cfg RedisConfig) (*Redis, error) {
	m := miniredis.NewMiniRedis()
	if err := m.Start(); err != nil {
		return nil, fmt.Errorf("start embedded redis: %w", err)
	}
	r := &Redis{
		Client:   redis.NewClient(&redis.Options{Addr: m.Addr()}),
		Embedded: true,
		Addr:     m.Addr(),
		mini:     m,
		stop:     make(chan struct{}),
	}
	if err := instrumentRedis(r.Client, cfg.TracerProvider); err != nil {
		_ = r.Client.Close()
		m.Close()
		return nil, err
	}
	r.wg.Add(1)
	go r.tick(cfg.TickInterval)
	if err := r.ping(ctx); err != nil {
		_ = r.Close()
		return nil, err
	}
	return r, nil
}

// tick advances the miniredis clock by the wall time that really passed,
// so TTLs expire at about the right moment whatever the tick interval.
func (r *Redis) tick(every time.Duration) {
	defer r.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-r.stop:
			return
		case now := <-t.C:
			r.mini.FastForward(now.Sub(last))
			last = now
		}
	}
}

func (r *Redis) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if err := r.Client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis at %s: %w", r.Addr, err)
	}
	return nil
}

// Close closes the client and, for an embedded server, stops the clock
// goroutine (waiting for it) and the server. Calling it again is a no-op.
func (r *Redis) Close() error {
	var err error
	r.once.Do(func() {
		err = r.Client.Close()
		if r.mini != nil {
			close(r.stop)
			r.wg.Wait()
			r.mini.Close()
		}
	})
	if err != nil {
		return fmt.Errorf("close redis client: %w", err)
	}
	return nil
}
