package shard

import (
	"context"
	"time"

	"github.com/pianorhythm/server/pkg/actor"
)

// job is one request: run on the shard that owns key.
type job struct {
	key string
	run func(ctx context.Context) (any, error)
}

// shardActor handles the jobs of one shard. Its state lives in Redis and
// MongoDB; what it reloads in Started is its share of the persistent rooms
// that Redis may have lost.
type shardActor struct {
	index   int
	m       *Manager
	handled int64
}

var (
	_ actor.Actor   = (*shardActor)(nil)
	_ actor.Starter = (*shardActor)(nil)
)

// Started restores the persistent rooms routed to this shard that Redis
// lacks. A MongoDB failure is logged, not returned: reads recover rooms
// lazily too, and failing Started would restart the shard in a loop.
func (s *shardActor) Started(c *actor.Context) error {
	ctx, cancel := context.WithTimeout(c.Context(), s.m.cfg.OpTimeout)
	defer cancel()
	n, err := s.m.eng.RecoverRooms(ctx, func(id string) bool { return s.m.route(RoomKey(id)) == s.index })
	if err != nil {
		c.Logger().Warn("state shard: reload persistent rooms", "shard", s.index, "err", err)
	}
	if s.m.cfg.OnStarted != nil {
		s.m.cfg.OnStarted(s.index, n)
	}
	return nil
}

func (s *shardActor) Receive(c *actor.Context) {
	j, ok := c.Message().(job)
	if !ok {
		return
	}
	s.handled++
	ctx, cancel := context.WithTimeout(c.Context(), s.m.cfg.OpTimeout)
	defer cancel()
	v, err := j.run(ctx)
	if err != nil {
		c.Respond(err)
		return
	}
	c.Respond(v)
}

// Keys of the requests; one place so related requests share a shard.
func RoomKey(id string) string     { return "room:" + id }
func UserKey(id string) string     { return "user:" + id }
func InstanceKey(id string) string { return "instance:" + id }
func TokenKey(id string) string    { return "token:" + id }

// Fixed keys of requests that belong to no room or user.
const (
	ConfigKey = "config"
	RoomsKey  = "rooms"
)

// defaultOpTimeout bounds one job when Config.OpTimeout is zero.
const defaultOpTimeout = 5 * time.Second
