package live

import (
	"context"
	"fmt"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

// Config returns the server-wide settings; unset means all off.
func (s *Store) Config(ctx context.Context) (*pb.ServerConfig, error) {
	v, err := s.rdb.HMGet(ctx, s.k.Config(), "maintenance", "motd").Result()
	if err != nil {
		return nil, fmt.Errorf("get config: %w", err)
	}
	c := &pb.ServerConfig{}
	c.Maintenance = v[0] == "1"
	c.Motd, _ = v[1].(string)
	return c, nil
}

// SetConfig replaces the server-wide settings.
func (s *Store) SetConfig(ctx context.Context, c *pb.ServerConfig) error {
	if err := s.rdb.HSet(ctx, s.k.Config(), "maintenance", flag(c.GetMaintenance()), "motd", c.GetMotd()).Err(); err != nil {
		return fmt.Errorf("set config: %w", err)
	}
	return nil
}
