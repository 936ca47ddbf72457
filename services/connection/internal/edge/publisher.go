package edge

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/droplog"
	"github.com/pianorhythm/server/services/connection/internal/pubsub"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/protobuf/proto"
)

// Publisher timings: how long a room's count of listening instances is
// trusted, and how often dropped publishes are logged (with their count)
// at most.
const (
	listenersTTL  = time.Second
	dropLogPeriod = 10 * time.Second
)

// publisher sends the edge's own room events (note batches, cursors; both
// lossy) to Redis from its own goroutine, so a note sender never waits for
// a Redis round trip.
//
// An event is published only when another instance listens on the room's
// channel: the publisher asks Redis (PUBSUB NUMSUB, counting subscribed
// connections, one per edge instance) at most once per listenersTTL per
// room, and meanwhile drops a room's events at once, before marshalling,
// while the answer was "only us". A new instance's first notes of a room
// can thus be missed for up to listenersTTL, as notes may be anyway.
//
// An event is dropped, never waited for, when the queue is full (Redis
// falls behind) or Redis does not answer: other instances miss some
// notes, local play goes on. Failures are counted
// (edge.redis.publish_failed) and logged once per outage; queue-full drops
// are counted (edge.redis.publish_dropped) and logged at most once per
// dropLogPeriod with the number dropped since the last line.
type publisher struct {
	rdb     redis.UniversalClient
	healthy func() bool
	log     *slog.Logger
	failed  metric.Int64Counter
	drops   *droplog.Log
	ch      chan pubItem
	done    chan struct{}
	once    sync.Once
	// failing is set from the first failure until the next success.
	failing atomic.Bool

	// listeners: room channel -> *listening, written by the publisher's
	// goroutine, read by senders.
	listeners sync.Map

	now func() time.Time
}

// listening is what Redis last said about a room channel.
type listening struct {
	others  bool  // another instance is subscribed
	checked int64 // unix ns
	// asked is when a sender last let an event through to have a stale
	// "only us" checked again (unix ns), so one event per period does,
	// not every event until the publisher gets to it.
	asked atomic.Int64
}

type pubItem struct {
	channel string
	payload []byte
}

func newPublisher(rdb redis.UniversalClient, healthy func() bool, log *slog.Logger, failed, dropped metric.Int64Counter) *publisher {
	p := &publisher{
		rdb: rdb, healthy: healthy, log: log, failed: failed, drops: newDropLog(log, dropped, time.Now),
		ch: make(chan pubItem, 4096), done: make(chan struct{}), now: time.Now,
	}
	go p.run()
	return p
}

func (p *publisher) run() {
	defer close(p.done)
	for it := range p.ch {
		if !p.healthy() {
			p.fail("redis unavailable", nil)
			continue
		}
		if !p.othersListen(it.channel) {
			continue
		}
		if err := p.rdb.Publish(context.Background(), it.channel, it.payload).Err(); err != nil {
			p.fail("publish room event", err)
			continue
		}
		if p.failing.Swap(false) {
			p.log.Info("publishing room events again")
		}
	}
}

// othersListen answers from the cache when it is fresh, else asks Redis;
// on an error it says yes (publishing is then what fails, and counts).
func (p *publisher) othersListen(channel string) bool {
	now := p.now().UnixNano()
	if v, ok := p.listeners.Load(channel); ok {
		l := v.(*listening)
		if now-l.checked < int64(listenersTTL) {
			return l.others
		}
	}
	n, err := p.rdb.PubSubNumSub(context.Background(), channel).Result()
	if err != nil {
		return true
	}
	// This instance is subscribed to every room it has members in; a
	// room it publishes to without a subscription (being left) counts as
	// listened to by others if anyone is subscribed.
	others := n[channel] > 1
	p.listeners.Store(channel, &listening{others: others, checked: now})
	return others
}

// alone reports "only us" for channel: the event need not even be
// marshalled. When the answer is stale, one event per listenersTTL goes
// through to the publisher, which asks Redis again.
func (p *publisher) alone(channel string) bool {
	v, ok := p.listeners.Load(channel)
	if !ok {
		return false
	}
	l := v.(*listening)
	if l.others {
		return false
	}
	now := p.now().UnixNano()
	if now-l.checked < int64(listenersTTL) {
		return true
	}
	asked := l.asked.Load()
	return now-asked < int64(listenersTTL) || !l.asked.CompareAndSwap(asked, now)
}

// forget drops what is known of channel (this instance left the room).
func (p *publisher) forget(channel string) { p.listeners.Delete(channel) }

// fail counts one event lost and logs the first of a run of failures.
func (p *publisher) fail(why string, err error) {
	p.failed.Add(context.Background(), 1)
	if !p.failing.Swap(true) {
		p.log.Warn("room events not published (counted in edge.redis.publish_failed) until Redis answers", "why", why, "err", err)
	}
}

// newDropLog counts the events dropped for a full queue in dropped and
// logs them at most once per dropLogPeriod.
func newDropLog(log *slog.Logger, dropped metric.Int64Counter, now func() time.Time) *droplog.Log {
	return droplog.New(droplog.Config{Counter: dropped, Period: dropLogPeriod, Now: now,
		Report: func(n int64, since time.Duration) {
			log.Warn("publish queue full: room events dropped (edge.redis.publish_dropped)",
				"dropped", n, "since", since.Round(time.Second).String())
		}})
}

// roomEvent publishes ev on its room's channel; it never blocks.
func (p *publisher) roomEvent(prefix string, ev *pb.RoomEvent) {
	channel := pubsub.RoomChannel(prefix, ev.GetRoomId())
	if p.alone(channel) {
		return
	}
	b, err := proto.Marshal(ev)
	if err != nil {
		p.log.Error("marshal room event", "err", err)
		return
	}
	select {
	case p.ch <- pubItem{channel: channel, payload: b}:
	default:
		p.drops.Drop(1)
	}
}

// close publishes what is queued and stops; callers must not publish
// afterwards.
func (p *publisher) close() {
	p.once.Do(func() { close(p.ch) })
	<-p.done
}
