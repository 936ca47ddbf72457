package live

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

// joinScript is the whole join decision in one step: room exists, not
// banned (expired bans are dropped), not in maintenance unless staff, a seat
// free unless the user already holds one; then the seat is taken (or its
// connection replaced) and the user's presence points at the room.
//
// KEYS: room, members, conns, bans, config, presence.
// ARGV: user id, member bytes, connection id, now (unix ms), staff, room id.
var joinScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NOT_FOUND'} end
local exp = redis.call('ZSCORE', KEYS[4], ARGV[1])
if exp then
  if tonumber(exp) > tonumber(ARGV[4]) then return {'BANNED', exp} end
  redis.call('ZREM', KEYS[4], ARGV[1])
end
if ARGV[5] ~= '1' then
  if redis.call('HGET', KEYS[5], 'maintenance') == '1' or redis.call('HGET', KEYS[1], 'maint') == '1' then
    return {'MAINTENANCE'}
  end
end
local prev = redis.call('HGET', KEYS[3], ARGV[1])
local member = redis.call('HEXISTS', KEYS[2], ARGV[1])
if member == 0 then
  local cap = tonumber(redis.call('HGET', KEYS[1], 'cap'))
  if redis.call('HLEN', KEYS[2]) >= cap then return {'ROOM_FULL'} end
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
if redis.call('EXISTS', KEYS[6]) == 1 then redis.call('HSET', KEYS[6], 'room', ARGV[6]) end
return {'OK', redis.call('HGET', KEYS[1], 'pb'), redis.call('HLEN', KEYS[2]), member, prev or ''}
`)

// JoinResult is the outcome of a successful Join.
type JoinResult struct {
	Room           *pb.Room
	AlreadyMember  bool
	PreviousConnID string
}

// Join seats m in room roomID atomically (see joinScript). Refusals are
// ErrNotFound, ErrBanned, ErrMaintenance and ErrRoomFull.
func (s *Store) Join(ctx context.Context, roomID string, m *pb.Member, staff bool, now time.Time) (JoinResult, error) {
	uid := m.GetUser().GetId()
	res, err := joinScript.Run(ctx, s.rdb, []string{
		s.k.Room(roomID), s.k.Members(roomID), s.k.Conns(roomID), s.k.Bans(roomID), s.k.Config(), s.k.Presence(uid),
	}, uid, marshal(m), m.GetConnectionId(), now.UnixMilli(), flag(staff), roomID).Slice()
	if err != nil {
		return JoinResult{}, fmt.Errorf("join room %q: %w", roomID, err)
	}
	switch res[0].(string) {
	case "OK":
	case "NOT_FOUND":
		return JoinResult{}, fmt.Errorf("room %q: %w", roomID, ErrNotFound)
	case "BANNED":
		until, _ := strconv.ParseFloat(res[1].(string), 64)
		if until >= permanent {
			return JoinResult{}, fmt.Errorf("room %q: %w", roomID, ErrBanned)
		}
		return JoinResult{}, fmt.Errorf("room %q until %s: %w", roomID, time.UnixMilli(int64(until)).UTC().Format(time.RFC3339), ErrBanned)
	case "MAINTENANCE":
		return JoinResult{}, fmt.Errorf("room %q: %w", roomID, ErrMaintenance)
	case "ROOM_FULL":
		return JoinResult{}, fmt.Errorf("room %q: %w", roomID, ErrRoomFull)
	default:
		return JoinResult{}, fmt.Errorf("join room %q: unexpected script result %v", roomID, res)
	}
	room := new(pb.Room)
	if err := proto.Unmarshal([]byte(res[1].(string)), room); err != nil {
		return JoinResult{}, fmt.Errorf("decode room %q: %w", roomID, err)
	}
	room.MemberCount = int32(res[2].(int64))
	out := JoinResult{Room: room, AlreadyMember: res[3].(int64) == 1}
	if out.AlreadyMember {
		out.PreviousConnID = res[4].(string)
	}
	return out, nil
}

// leaveScript frees a seat (only if connection matches, when given) and
// clears the presence's room. Returns {removed, member count}.
var leaveScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[2], ARGV[1])
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 or (ARGV[2] ~= '' and cur ~= ARGV[2]) then
  return {0, redis.call('HLEN', KEYS[1])}
end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
if redis.call('HGET', KEYS[3], 'room') == ARGV[3] then redis.call('HSET', KEYS[3], 'room', '') end
return {1, redis.call('HLEN', KEYS[1])}
`)

// Leave removes userID from the room; with connID set, only when that
// connection holds the seat. It reports whether a seat was freed and the
// members left.
func (s *Store) Leave(ctx context.Context, roomID, userID, connID string) (removed bool, count int, err error) {
	res, err := leaveScript.Run(ctx, s.rdb, []string{s.k.Members(roomID), s.k.Conns(roomID), s.k.Presence(userID)},
		userID, connID, roomID).Int64Slice()
	if err != nil {
		return false, 0, fmt.Errorf("leave room %q: %w", roomID, err)
	}
	return res[0] == 1, int(res[1]), nil
}

// Members returns the members of a room, earliest joiner first.
func (s *Store) Members(ctx context.Context, roomID string) ([]*pb.Member, error) {
	vals, err := s.rdb.HVals(ctx, s.k.Members(roomID)).Result()
	if err != nil {
		return nil, fmt.Errorf("room %q members: %w", roomID, err)
	}
	out := make([]*pb.Member, 0, len(vals))
	for _, v := range vals {
		m := new(pb.Member)
		if err := proto.Unmarshal([]byte(v), m); err != nil {
			return nil, fmt.Errorf("decode member of %q: %w", roomID, err)
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].GetJoinedAt().AsTime(), out[j].GetJoinedAt().AsTime()
		if !a.Equal(b) {
			return a.Before(b)
		}
		return out[i].GetUser().GetId() < out[j].GetUser().GetId()
	})
	return out, nil
}

// permanent is the expiry score of a ban without end: 2^53 ms, exact in a
// float64 score and far beyond any real date.
const permanent = float64(1 << 53)

// Ban bans userID from the room until until; the zero time bans without end.
func (s *Store) Ban(ctx context.Context, roomID, userID string, until time.Time) error {
	score := permanent
	if !until.IsZero() {
		score = math.Min(float64(until.UnixMilli()), permanent)
	}
	if err := s.rdb.ZAdd(ctx, s.k.Bans(roomID), redis.Z{Score: score, Member: userID}).Err(); err != nil {
		return fmt.Errorf("ban from %q: %w", roomID, err)
	}
	return nil
}

// Unban lifts a ban; lifting a ban that does not exist is not an error.
func (s *Store) Unban(ctx context.Context, roomID, userID string) error {
	if err := s.rdb.ZRem(ctx, s.k.Bans(roomID), userID).Err(); err != nil {
		return fmt.Errorf("unban from %q: %w", roomID, err)
	}
	return nil
}
