package edge

import (
	"context"
	"log/slog"
	"sync"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/connection/internal/pubsub"
	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"
)

// publisher sends room events to Redis from its own goroutine, so a note
// sender never waits for a Redis round trip. When Redis falls behind the
// queue fills and events are dropped (other instances miss some notes)
// rather than slowing local play.
type publisher struct {
	rdb  redis.UniversalClient
	log  *slog.Logger
	ch   chan pubItem
	done chan struct{}
	once sync.Once
}

type pubItem struct {
	channel string
	payload []byte
}

func newPublisher(rdb redis.UniversalClient, log *slog.Logger) *publisher {
	p := &publisher{rdb: rdb, log: log, ch: make(chan pubItem, 4096), done: make(chan struct{})}
	go p.run()
	return p
}

func (p *publisher) run() {
	defer close(p.done)
	for it := range p.ch {
		if err := p.rdb.Publish(context.Background(), it.channel, it.payload).Err(); err != nil {
			p.log.Warn("publish room event", "channel", it.channel, "err", err)
		}
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
		p.log.Warn("publish queue full: room event dropped", "room", ev.GetRoomId())
	}
}

// close publishes what is queued and stops; callers must not publish
// afterwards.
func (p *publisher) close() {
	p.once.Do(func() { close(p.ch) })
	<-p.done
}
