package edge

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/connection/internal/pubsub"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/protobuf/proto"
)

// publisher sends room events to Redis from its own goroutine, so a note
// sender never waits for a Redis round trip. An event is dropped, never
// waited for, when the queue is full (Redis falls behind) or Redis does not
// answer: other instances miss some notes, local play goes on. Drops and
// failures are counted (edge.redis.publish_failed) and logged once per
// outage, not once per event.
type publisher struct {
	rdb     redis.UniversalClient
	healthy func() bool
	log     *slog.Logger
	failed  metric.Int64Counter
	ch      chan pubItem
	done    chan struct{}
	once    sync.Once
	// failing is set from the first failure until the next success.
	failing atomic.Bool
}

type pubItem struct {
	channel string
	payload []byte
}

func newPublisher(rdb redis.UniversalClient, healthy func() bool, log *slog.Logger, failed metric.Int64Counter) *publisher {
	p := &publisher{rdb: rdb, healthy: healthy, log: log, failed: failed, ch: make(chan pubItem, 4096), done: make(chan struct{})}
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
		if err := p.rdb.Publish(context.Background(), it.channel, it.payload).Err(); err != nil {
			p.fail("publish room event", err)
			continue
		}
		if p.failing.Swap(false) {
			p.log.Info("publishing room events again")
		}
	}
}

// fail counts one event lost and logs the first of a run of failures.
func (p *publisher) fail(why string, err error) {
	p.failed.Add(context.Background(), 1)
	if !p.failing.Swap(true) {
		p.log.Warn("room events not published (counted in edge.redis.publish_failed) until Redis answers", "why", why, "err", err)
	}
}

// roomEvent publishes ev on its room's channel; it never blocks.
func (p *publisher) roomEvent(prefix string, ev *pb.RoomEvent) {
	b, err := proto.Marshal(ev)
	if err != nil {
		p.log.Error("marshal room event", "err", err)
		return
	}
	select {
	case p.ch <- pubItem{channel: pubsub.RoomChannel(prefix, ev.GetRoomId()), payload: b}:
	default:
		p.fail("publish queue full", nil)
	}
}

// close publishes what is queued and stops; callers must not publish
// afterwards.
func (p *publisher) close() {
	p.once.Do(func() { close(p.ch) })
	<-p.done
}
