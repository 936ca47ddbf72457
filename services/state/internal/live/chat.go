package live

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

// ErrChatCold is returned by AppendChat when the room's chat list does not
// exist (after a flush or a clear): the caller seeds it from the archive
// with SeedChat, so recent history is not replaced by one message.
var ErrChatCold = errors.New("chat list not loaded")

// The room hash's field chatwarm says its chat list is loaded even when it
// is empty (Redis drops empty lists): a room created here, seeded from the
// archive, or cleared. A flush loses it with the room, so the next read goes
// back to the archive.
const chatWarm = "chatwarm"

// appendChatScript: KEYS room, chat; ARGV message, max. Returns -1 (no
// room), 0 (cold list) or 1.
var appendChatScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('EXISTS', KEYS[2]) == 0 and redis.call('HGET', KEYS[1], 'chatwarm') ~= '1' then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[2]), -1)
return 1
`)

// AppendChat adds m to the room's recent chat. Errors: ErrNotFound (no
// room), ErrChatCold.
func (s *Store) AppendChat(ctx context.Context, m *pb.ChatMessage) error {
	n, err := appendChatScript.Run(ctx, s.rdb, []string{s.k.Room(m.GetRoomId()), s.k.Chat(m.GetRoomId())},
		marshal(m), s.chat).Int()
	if err != nil {
		return fmt.Errorf("append chat to %q: %w", m.GetRoomId(), err)
	}
	switch n {
	case -1:
		return fmt.Errorf("room %q: %w", m.GetRoomId(), ErrNotFound)
	case 0:
		return ErrChatCold
	}
	return nil
}

// seedChatScript: KEYS chat, room; ARGV max, messages... Seeds only a cold
// list (another replica may have seeded it meanwhile), then appends the
// last argument when ARGV[2] says there is a new message, and marks the
// list loaded.
var seedChatScript = redis.NewScript(`
local n = #ARGV
local last = n
if ARGV[2] == '1' then last = n - 1 end
if redis.call('EXISTS', KEYS[1]) == 0 then
  for i = 3, last do redis.call('RPUSH', KEYS[1], ARGV[i]) end
end
if ARGV[2] == '1' then redis.call('RPUSH', KEYS[1], ARGV[n]) end
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[1]), -1)
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('HSET', KEYS[2], 'chatwarm', '1') end
return 1
`)

// SeedChat fills a cold chat list with history (oldest first) and then
// appends next, when not nil and not already in history.
func (s *Store) SeedChat(ctx context.Context, roomID string, history []*pb.ChatMessage, next *pb.ChatMessage) error {
	args := make([]any, 0, len(history)+3)
	args = append(args, s.chat, "0")
	for _, m := range history {
		if next != nil && m.GetId() == next.GetId() {
			next = nil // archived already: a retried save
		}
		args = append(args, marshal(m))
	}
	if next != nil {
		args[1] = "1"
		args = append(args, marshal(next))
	}
	if err := seedChatScript.Run(ctx, s.rdb, []string{s.k.Chat(roomID), s.k.Room(roomID)}, args...).Err(); err != nil && err != redis.Nil {
		return fmt.Errorf("seed chat of %q: %w", roomID, err)
	}
	return nil
}

// Chat returns up to limit recent messages, oldest first, and whether the
// list is loaded: an empty cold list (after a flush) must be read from the
// archive, an empty loaded one is just empty.
func (s *Store) Chat(ctx context.Context, roomID string, limit int) ([]*pb.ChatMessage, bool, error) {
	var vals *redis.StringSliceCmd
	var warm *redis.StringCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		vals = p.LRange(ctx, s.k.Chat(roomID), int64(-limit), -1)
		warm = p.HGet(ctx, s.k.Room(roomID), chatWarm)
		return nil
	})
	if err != nil && err != redis.Nil {
		return nil, false, fmt.Errorf("chat of %q: %w", roomID, err)
	}
	msgs, err := decodeChat(roomID, vals.Val())
	return msgs, len(msgs) > 0 || warm.Val() == "1", err
}

// MarkChatLoaded records that a room's (empty) chat list is complete: a
// room created here has no archived history to load.
func (s *Store) MarkChatLoaded(ctx context.Context, roomID string) error {
	if err := markLoadedScript.Run(ctx, s.rdb, []string{s.k.Room(roomID)}).Err(); err != nil && err != redis.Nil {
		return fmt.Errorf("mark chat of %q loaded: %w", roomID, err)
	}
	return nil
}

var markLoadedScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'chatwarm', '1') end
return 1
`)

func decodeChat(roomID string, vals []string) ([]*pb.ChatMessage, error) {
	out := make([]*pb.ChatMessage, 0, len(vals))
	for _, v := range vals {
		m := new(pb.ChatMessage)
		if err := proto.Unmarshal([]byte(v), m); err != nil {
			return nil, fmt.Errorf("decode chat of %q: %w", roomID, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// DeleteChat removes one message from the recent chat; it reports whether
// the message was there.
func (s *Store) DeleteChat(ctx context.Context, roomID, msgID string) (bool, error) {
	vals, err := s.rdb.LRange(ctx, s.k.Chat(roomID), 0, -1).Result()
	if err != nil {
		return false, fmt.Errorf("chat of %q: %w", roomID, err)
	}
	for _, v := range vals {
		m := new(pb.ChatMessage)
		if proto.Unmarshal([]byte(v), m) != nil || m.GetId() != msgID {
			continue
		}
		if err := s.rdb.LRem(ctx, s.k.Chat(roomID), 1, v).Err(); err != nil {
			return false, fmt.Errorf("delete chat message in %q: %w", roomID, err)
		}
		return true, nil
	}
	return false, nil
}

// ClearChat drops the room's recent chat; the empty list stays loaded.
func (s *Store) ClearChat(ctx context.Context, roomID string) error {
	if err := s.rdb.Del(ctx, s.k.Chat(roomID)).Err(); err != nil {
		return fmt.Errorf("clear chat of %q: %w", roomID, err)
	}
	return s.MarkChatLoaded(ctx, roomID)
}
