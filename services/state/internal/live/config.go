package live

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

// Config returns the server-wide settings; loaded is false when Redis
// does not have them (the caller restores them from the archive).
func (s *Store) Config(ctx context.Context) (c *pb.ServerConfig, loaded bool, err error) {
	v, err := s.rdb.HMGet(ctx, s.k.Config(), "maintenance", "motd", loadedField).Result()
	if err != nil {
		return nil, false, fmt.Errorf("get config: %w", err)
	}
	c = &pb.ServerConfig{}
	c.Maintenance = v[0] == "1"
	c.Motd, _ = v[1].(string)
	return c, v[2] != nil, nil
}

// SetConfig replaces the server-wide settings.
func (s *Store) SetConfig(ctx context.Context, c *pb.ServerConfig) error {
	if err := s.rdb.HSet(ctx, s.k.Config(), "maintenance", flag(c.GetMaintenance()), "motd", c.GetMotd(), loadedField, "1").Err(); err != nil {
		return fmt.Errorf("set config: %w", err)
	}
	return nil
}

// RestoreConfig writes archived settings back unless Redis has settings
// already.
func (s *Store) RestoreConfig(ctx context.Context, c *pb.ServerConfig) error {
	err := restoreConfigScript.Run(ctx, s.rdb, []string{s.k.Config()}, flag(c.GetMaintenance()), c.GetMotd()).Err()
	if err != nil && err != redis.Nil {
		return fmt.Errorf("restore config: %w", err)
	}
	return nil
}

var restoreConfigScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], '~') == 1 then return 0 end
redis.call('HSET', KEYS[1], 'maintenance', ARGV[1], 'motd', ARGV[2], '~', '1')
return 1
`)
