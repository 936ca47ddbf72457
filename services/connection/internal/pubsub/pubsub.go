package pubsub

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// RoomChannel is the channel of room id's events under key prefix.
func RoomChannel(prefix, id string) string { return prefix + "room:" + id }

// UserChannel is the channel of user id's events under key prefix.
func UserChannel(prefix, id string) string { return prefix + "user:" + id }

// Kind tells which kind of channel a name is.
type Kind uint8

const (
	// Unknown: a channel of neither kind.
	Unknown Kind = iota
	// Room: a room:{id} channel.
	Room
	// User: a user:{id} channel.
	User
)

// Parse splits a channel name under prefix into its kind and id.
func Parse(prefix, channel string) (Kind, string) {
	rest, ok := strings.CutPrefix(channel, prefix)
	if !ok {
		return Unknown, ""
	}
	if id, ok := strings.CutPrefix(rest, "room:"); ok {
		return Room, id
	}
	if id, ok := strings.CutPrefix(rest, "user:"); ok {
		return User, id
	}
	return Unknown, ""
}

// Handler receives one message; it runs on the Subscriber's goroutine and
// must not block.
type Handler func(channel string, payload []byte)

// Subscriber multiplexes reference-counted channel subscriptions over one
// Redis connection. It is safe for concurrent use. go-redis reconnects and
// resubscribes on its own after a network error.
type Subscriber struct {
	ps   *redis.PubSub
	mu   sync.Mutex
	refs map[string]int
	done chan struct{}
}

// NewSubscriber starts dispatching messages to h. Close stops it and waits.
func NewSubscriber(ctx context.Context, rdb redis.UniversalClient, h Handler) *Subscriber {
	s := &Subscriber{ps: rdb.Subscribe(ctx), refs: make(map[string]int), done: make(chan struct{})}
	ch := s.ps.Channel(redis.WithChannelSize(4096))
	go func() {
		defer close(s.done)
		for m := range ch {
			h(m.Channel, []byte(m.Payload))
		}
	}()
	return s
}

// Subscribe adds a reference to channel, subscribing on the first one.
func (s *Subscriber) Subscribe(ctx context.Context, channel string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refs[channel]++
	if s.refs[channel] > 1 {
		return nil
	}
	if err := s.ps.Subscribe(ctx, channel); err != nil {
		delete(s.refs, channel)
		return fmt.Errorf("subscribe %s: %w", channel, err)
	}
	return nil
}

// Unsubscribe drops a reference to channel, unsubscribing with the last.
func (s *Subscriber) Unsubscribe(ctx context.Context, channel string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.refs[channel]
	if !ok {
		return nil
	}
	if n > 1 {
		s.refs[channel] = n - 1
		return nil
	}
	delete(s.refs, channel)
	if err := s.ps.Unsubscribe(ctx, channel); err != nil {
		return fmt.Errorf("unsubscribe %s: %w", channel, err)
	}
	return nil
}

// Channels returns how many channels are subscribed.
func (s *Subscriber) Channels() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.refs)
}

// Close ends the subscription and waits for the dispatching goroutine.
func (s *Subscriber) Close() error {
	err := s.ps.Close()
	<-s.done
	if err != nil {
		return fmt.Errorf("close subscription: %w", err)
	}
	return nil
}
