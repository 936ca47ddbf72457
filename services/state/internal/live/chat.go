package live

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

// ErrChatCold is returned by PostChat when the room's chat list does not
// exist (after a flush or a clear): the caller seeds it from the archive
// with SeedChat and posts again, so recent history is not replaced by one
// message.
var ErrChatCold = errors.New("chat list not loaded")

// The room hash's field chatwarm says its chat list is loaded even when it
// is empty (Redis drops empty lists): a room created here, seeded from the
// archive, or cleared. A flush loses it with the room, so the next read goes
// back to the archive.
const chatWarm = "chatwarm"

// postChatScript is a whole chat command: the room exists at the
// caller's version, the sender holds a seat (system messages have no
// sender), the list is loaded, the sender is within the rate limit (a
// window that starts with its first message, by the service's clock, as in
// Hit); then the message is appended, trimmed, and published.
// A message id posted again within postedTTL (a retried call) is answered
// OK and changes nothing, so the command is idempotent by message id.
// KEYS room, chat, members, rate, channel, posted; ARGV message, max,
// user, version, limit, window ms, now ms, event, posted ttl ms.
// Returns {'OK'} / {'NOT_FOUND'} / {'STALE', pb, ver} / {'NOT_IN_ROOM'} /
// {'COLD'} / {'RATE', retry ms}.
var postChatScript = redis.NewScript(luaSaveRoom + `
if redis.call('EXISTS', KEYS[6]) == 1 then return {'OK'} end
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NOT_FOUND'} end
if stale(KEYS[1], ARGV[4]) then return {'STALE', redis.call('HGET', KEYS[1], 'pb'), redis.call('HGET', KEYS[1], 'ver')} end
if ARGV[3] ~= '' and redis.call('HEXISTS', KEYS[3], ARGV[3]) == 0 then return {'NOT_IN_ROOM'} end
if redis.call('EXISTS', KEYS[2]) == 0 and redis.call('HGET', KEYS[1], 'chatwarm') ~= '1' then return {'COLD'} end
local limit = tonumber(ARGV[5])
if limit > 0 then
  local now, window = tonumber(ARGV[7]), tonumber(ARGV[6])
  local start = tonumber(redis.call('HGET', KEYS[4], 'start'))
  if start == nil or now - start >= window or now < start then
    redis.call('HSET', KEYS[4], 'start', now, 'n', 1)
    redis.call('PEXPIRE', KEYS[4], window + 1000)
  elseif tonumber(redis.call('HGET', KEYS[4], 'n')) >= limit then
    return {'RATE', start + window - now}
  else
    redis.call('HINCRBY', KEYS[4], 'n', 1)
  end
end
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[2]), -1)
redis.call('SET', KEYS[6], '1', 'PX', ARGV[9])
redis.call('PUBLISH', KEYS[5], ARGV[8])
return {'OK'}
`)

// postedTTL is how long a posted message id is remembered against retries.
const postedTTL = 10 * time.Minute

// ChatPost is one chat command: see SaveChatMessageRequest.
type ChatPost struct {
	Msg     *pb.ChatMessage
	Version int64
	Limit   int
	Window  time.Duration
	Now     time.Time
	// Event is the marshalled ChatPosted.
	Event []byte
}

// RateLimited is a refused chat: RetryAfter is the time left in the window.
type RateLimited struct{ RetryAfter time.Duration }

func (e *RateLimited) Error() string {
	return fmt.Sprintf("chatting too fast: try again in %s", e.RetryAfter.Round(time.Millisecond))
}

// PostChat runs a chat command (see postChatScript). Errors: ErrNotFound,
// *Stale, ErrNotInRoom, ErrChatCold (load the archive with SeedChat, then
// post again), *RateLimited.
func (s *Store) PostChat(ctx context.Context, p ChatPost) error {
	m := p.Msg
	roomID := m.GetRoomId()
	res, err := postChatScript.Run(ctx, s.rdb, []string{
		s.k.Room(roomID), s.k.Chat(roomID), s.k.Members(roomID), s.k.Hit("chat:" + roomID + ":" + m.GetUserId()), s.k.RoomChannel(roomID),
		s.k.Posted(roomID, m.GetId()),
	}, marshal(m), s.chat, m.GetUserId(), p.Version, p.Limit, p.Window.Milliseconds(), p.Now.UnixMilli(), p.Event, postedTTL.Milliseconds()).Slice()
	if err != nil {
		return fmt.Errorf("post chat to %q: %w", roomID, err)
	}
	switch res[0].(string) {
	case "OK":
		return nil
	case "NOT_FOUND":
		return fmt.Errorf("room %q: %w", roomID, ErrNotFound)
	case "STALE":
		cur, err := decodeRoom(roomID, res[1], res[2])
		if err != nil {
			return err
		}
		return &Stale{Room: cur}
	case "NOT_IN_ROOM":
		return fmt.Errorf("room %q: %w", roomID, ErrNotInRoom)
	case "COLD":
		return ErrChatCold
	case "RATE":
		return &RateLimited{RetryAfter: time.Duration(res[1].(int64)) * time.Millisecond}
	}
	return fmt.Errorf("post chat to %q: unexpected script result %v", roomID, res)
}

// seedChatScript: KEYS chat, room; ARGV max, messages... Seeds only a
// cold list (another replica may have seeded it meanwhile) and marks the
// list loaded.
var seedChatScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then
  for i = 2, #ARGV do redis.call('RPUSH', KEYS[1], ARGV[i]) end
  redis.call('LTRIM', KEYS[1], -tonumber(ARGV[1]), -1)
end
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('HSET', KEYS[2], 'chatwarm', '1') end
return 1
`)

// SeedChat fills a cold chat list with history (oldest first).
func (s *Store) SeedChat(ctx context.Context, roomID string, history []*pb.ChatMessage) error {
	args := make([]any, 0, len(history)+1)
	args = append(args, s.chat)
	for _, m := range history {
		args = append(args, marshal(m))
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

// clearChatScript: KEYS room, chat, channel; ARGV event. Returns 0 when
// the room does not exist.
var clearChatScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[1], 'chatwarm', '1')
redis.call('PUBLISH', KEYS[3], ARGV[1])
return 1
`)

// ClearChat drops the room's recent chat (the empty list stays loaded) and
// publishes event; ErrNotFound without the room.
func (s *Store) ClearChat(ctx context.Context, roomID string, event []byte) error {
	n, err := clearChatScript.Run(ctx, s.rdb, []string{s.k.Room(roomID), s.k.Chat(roomID), s.k.RoomChannel(roomID)}, event).Int()
	if err != nil {
		return fmt.Errorf("clear chat of %q: %w", roomID, err)
	}
	if n == 0 {
		return fmt.Errorf("room %q: %w", roomID, ErrNotFound)
	}
	return nil
}
