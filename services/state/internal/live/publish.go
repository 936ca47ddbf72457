package live

import (
	"context"
	"fmt"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

// PublishRoomEvent publishes the marshalled event on the room's channel and
// returns how many subscribers received it.
func (s *Store) PublishRoomEvent(ctx context.Context, e *pb.RoomEvent) (int64, error) {
	n, err := s.rdb.Publish(ctx, s.k.RoomChannel(e.GetRoomId()), marshal(e)).Result()
	if err != nil {
		return 0, fmt.Errorf("publish to room %q: %w", e.GetRoomId(), err)
	}
	return n, nil
}

// PublishUserEvent publishes the marshalled event on the user's channel.
func (s *Store) PublishUserEvent(ctx context.Context, e *pb.UserEvent) (int64, error) {
	n, err := s.rdb.Publish(ctx, s.k.UserChannel(e.GetUserId()), marshal(e)).Result()
	if err != nil {
		return 0, fmt.Errorf("publish to user %q: %w", e.GetUserId(), err)
	}
	return n, nil
}

// PublishRoom publishes a marshalled RoomEvent on the room's channel.
func (s *Store) PublishRoom(ctx context.Context, roomID string, event []byte) error {
	if err := s.rdb.Publish(ctx, s.k.RoomChannel(roomID), event).Err(); err != nil {
		return fmt.Errorf("publish to room %q: %w", roomID, err)
	}
	return nil
}
