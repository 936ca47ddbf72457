package live

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

// GetUser returns the cached user record, or ErrNotFound.
func (s *Store) GetUser(ctx context.Context, id string) (*pb.User, error) {
	b, err := s.rdb.Get(ctx, s.k.User(id)).Bytes()
	if err == redis.Nil {
		return nil, fmt.Errorf("user %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get user %q: %w", id, err)
	}
	u := new(pb.User)
	if err := proto.Unmarshal(b, u); err != nil {
		return nil, fmt.Errorf("decode user %q: %w", id, err)
	}
	return u, nil
}

// SaveUser replaces the user record.
func (s *Store) SaveUser(ctx context.Context, u *pb.User) error {
	if err := s.rdb.Set(ctx, s.k.User(u.GetId()), marshal(u), 0).Err(); err != nil {
		return fmt.Errorf("save user %q: %w", u.GetId(), err)
	}
	return nil
}
