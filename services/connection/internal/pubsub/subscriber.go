package pubsub

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Handler receives one message; it runs on the Subscriber's goroutine and
// must not block.
type Handler func(channel string, payload []byte)

// ErrUnavailable is returned by Subscribe while Redis does not answer.
var ErrUnavailable = errors.New("redis unavailable")

// ErrClosed is returned by Subscribe after Close.
var ErrClosed = errors.New("subscriber closed")

// SubscriberConfig configures a Subscriber.
type SubscriberConfig struct {
	// Healthy reports whether Redis answers (a Watcher's Up); while it
	// says no, Subscribe fails at once instead of trying. Nil means
	// always try.
	Healthy func() bool
	// OpTimeout bounds one SUBSCRIBE or UNSUBSCRIBE. Zero value means 2s.
	OpTimeout time.Duration
}

// Subscriber keeps one Redis subscription per channel however many local
// connections want it (reference counts), over one Redis connection, and
// dispatches every message to one handler. It is safe for concurrent use.
//
// The reference counts are the truth and change at once; one goroutine of
// the Subscriber makes Redis match them, so Unsubscribe never waits for
// Redis. go-redis reconnects and resubscribes after a network error, and
// Resubscribe sends every wanted channel again (after Redis came back,
// perhaps as a fresh server). Close stops both goroutines and waits.
type Subscriber struct {
	ps  *redis.PubSub
	cfg SubscriberConfig

	mu       sync.Mutex
	channels map[string]*channel
	ops      []op
	closed   bool
	wake     chan struct{}

	stop     chan struct{}
	done     chan struct{} // dispatcher
	opsDone  chan struct{} // op runner
	stopOnce sync.Once
}

// channel is one wanted channel. A new record is made each time a channel
// is wanted again after it was dropped, so an old SUBSCRIBE never confirms
// a newer want.
type channel struct {
	refs      int
	confirmed bool
	waiters   []chan error
}

// op is one change to send to Redis; subscribes carry the records they
// confirm.
type op struct {
	subscribe bool
	names     []string
	records   []*channel
}

// NewSubscriber starts dispatching messages to h. Close stops it and waits.
func NewSubscriber(ctx context.Context, rdb redis.UniversalClient, h Handler, cfg SubscriberConfig) *Subscriber {
	if cfg.OpTimeout <= 0 {
		cfg.OpTimeout = 2 * time.Second
	}
	s := &Subscriber{
		ps: rdb.Subscribe(ctx), cfg: cfg, channels: make(map[string]*channel),
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}), opsDone: make(chan struct{}),
	}
	ch := s.ps.Channel(redis.WithChannelSize(4096))
	go func() {
		defer close(s.done)
		for m := range ch {
			h(m.Channel, []byte(m.Payload))
		}
	}()
	go s.runOps()
	return s
}

func (s *Subscriber) healthy() bool { return s.cfg.Healthy == nil || s.cfg.Healthy() }

// Subscribe adds a reference to name, subscribing with the first one, and
// waits until the SUBSCRIBE has been sent to Redis (or ctx ends). The
// reference is taken even when it returns an error: the caller must
// Unsubscribe it in any case, and until then the channel is subscribed as
// soon as Redis is back. While Redis does not answer it returns
// ErrUnavailable at once.
func (s *Subscriber) Subscribe(ctx context.Context, name string) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	c := s.channels[name]
	if c == nil {
		c = &channel{}
		s.channels[name] = c
	}
	c.refs++
	if c.confirmed {
		s.mu.Unlock()
		return nil
	}
	if !s.healthy() {
		// Resubscribe sends it when Redis is back.
		s.mu.Unlock()
		return fmt.Errorf("subscribe %s: %w", name, ErrUnavailable)
	}
	wait := make(chan error, 1)
	c.waiters = append(c.waiters, wait)
	if len(c.waiters) == 1 { // else a SUBSCRIBE is on its way already
		s.queue(op{subscribe: true, names: []string{name}, records: []*channel{c}})
	}
	s.mu.Unlock()
	select {
	case err := <-wait:
		if err != nil {
			return fmt.Errorf("subscribe %s: %w", name, err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("subscribe %s: %w", name, ctx.Err())
	}
}

// Unsubscribe drops a reference to name, unsubscribing with the last one;
// it never waits for Redis.
func (s *Subscriber) Unsubscribe(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[name]
	if c == nil {
		return
	}
	if c.refs--; c.refs > 0 {
		return
	}
	delete(s.channels, name)
	if !s.closed {
		s.queue(op{names: []string{name}})
	}
}

// Resubscribe sends SUBSCRIBE again for every wanted channel: after Redis
// came back, so nothing depends on the client library having noticed the
// restart. Subscribing twice to a channel is harmless in Redis.
func (s *Subscriber) Resubscribe() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || len(s.channels) == 0 {
		return
	}
	o := op{subscribe: true}
	for name, c := range s.channels {
		o.names = append(o.names, name)
		o.records = append(o.records, c)
	}
	s.queue(o)
}

// queue adds o for the op runner; s.mu is held.
func (s *Subscriber) queue(o op) {
	s.ops = append(s.ops, o)
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Subscriber) runOps() {
	defer close(s.opsDone)
	for {
		select {
		case <-s.stop:
			return
		case <-s.wake:
		}
		s.mu.Lock()
		ops := s.ops
		s.ops = nil
		s.mu.Unlock()
		for _, o := range ops {
			s.run(o)
		}
	}
}

// run sends one op; a failed SUBSCRIBE leaves its channels wanted (go-redis
// keeps them and resubscribes when it reconnects; Resubscribe does too).
func (s *Subscriber) run(o op) {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.OpTimeout)
	defer cancel()
	if !o.subscribe {
		// go-redis forgets the channel before it talks to Redis, so a
		// failure here still leaves it unsubscribed after a reconnect.
		_ = s.ps.Unsubscribe(ctx, o.names...)
		return
	}
	var err error
	if s.healthy() {
		err = s.ps.Subscribe(ctx, o.names...)
	} else {
		err = ErrUnavailable
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, c := range o.records {
		if err == nil && s.channels[o.names[i]] == c {
			c.confirmed = true
		}
		for _, w := range c.waiters {
			w <- err
		}
		c.waiters = nil
	}
}

// Channels returns how many channels are wanted.
func (s *Subscriber) Channels() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.channels)
}

// Close ends the subscription and waits for the Subscriber's goroutines.
// Waiting Subscribe calls return ErrClosed.
func (s *Subscriber) Close() error {
	var err error
	s.stopOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		for _, c := range s.channels {
			for _, w := range c.waiters {
				w <- ErrClosed
			}
			c.waiters = nil
		}
		s.mu.Unlock()
		close(s.stop)
		<-s.opsDone
		err = s.ps.Close()
	})
	<-s.done
	if err != nil {
		return fmt.Errorf("close subscription: %w", err)
	}
	return nil
}
