package live

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

// joinScript is a whole join in one step: the room exists and is at the
// version the caller decided on; the joiner is not banned (expired bans
// are dropped), not kept out by maintenance unless staff, and finds a seat
// unless they hold one already; then the seat is taken (or its connection
// replaced), the presence points at the room, the caller's room update is
// written, UserJoined is published for a new seat, and the members and
// recent chat come back.
//
// KEYS: room, members, conns, bans, config, presence, rooms, public,
// channel, chat. ARGV: user, member, connection, now ms, staff, version,
// event, chat n, room args (6).
var joinScript = redis.NewScript(luaSaveRoom + `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NOT_FOUND'} end
if stale(KEYS[1], ARGV[6]) then return {'STALE', redis.call('HGET', KEYS[1], 'pb'), redis.call('HGET', KEYS[1], 'ver')} end
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
if redis.call('EXISTS', KEYS[6]) == 1 then redis.call('HSET', KEYS[6], 'room', ARGV[14]) end
if ARGV[9] ~= '' then saveroom(KEYS[1], KEYS[7], KEYS[8], 9) end
if member == 0 then redis.call('PUBLISH', KEYS[9], ARGV[7]) end
local n = tonumber(ARGV[8])
local chat = {}
local warm = '1'
if n > 0 then
  chat = redis.call('LRANGE', KEYS[10], -n, -1)
  if #chat == 0 and redis.call('HGET', KEYS[1], 'chatwarm') ~= '1' then warm = '0' end
end
return {'OK', redis.call('HGET', KEYS[1], 'pb'), redis.call('HGET', KEYS[1], 'ver'), member, prev or '',
  redis.call('HVALS', KEYS[2]), chat, warm}
`)

// JoinRequest is one join: see AddUserToRoomRequest.
type JoinRequest struct {
	RoomID  string
	Member  *pb.Member
	Staff   bool
	Version int64
	// Update is written with the seat (nil: none).
	Update *pb.Room
	// Event is the marshalled UserJoined, published for a new seat.
	Event []byte
	// Chat is how many recent messages to return.
	Chat int
	Now  time.Time
}

// JoinResult is the outcome of a successful Join.
type JoinResult struct {
	Room           *pb.Room
	AlreadyMember  bool
	PreviousConnID string
	Members        []*pb.Member
	Chat           []*pb.ChatMessage
	// ChatLoaded is false when the room's chat list is cold (after a
	// flush): Chat is then empty and the caller loads it from the archive.
	ChatLoaded bool
}

// Join seats a member atomically (see joinScript). Refusals are
// ErrNotFound, ErrBanned, ErrMaintenance, ErrRoomFull and *Stale.
func (s *Store) Join(ctx context.Context, j JoinRequest) (JoinResult, error) {
	uid, roomID := j.Member.GetUser().GetId(), j.RoomID
	args := append([]any{uid, marshal(j.Member), j.Member.GetConnectionId(), j.Now.UnixMilli(), flag(j.Staff),
		j.Version, j.Event, j.Chat}, roomArgs(j.Update)...)
	args[13] = roomID // the room args' id slot doubles as the presence's room
	res, err := joinScript.Run(ctx, s.rdb, []string{
		s.k.Room(roomID), s.k.Members(roomID), s.k.Conns(roomID), s.k.Bans(roomID), s.k.Config(), s.k.Presence(uid),
		s.k.Rooms(), s.k.PublicRooms(), s.k.RoomChannel(roomID), s.k.Chat(roomID),
	}, args...).Slice()
	if err != nil {
		return JoinResult{}, fmt.Errorf("join room %q: %w", roomID, err)
	}
	switch res[0].(string) {
	case "OK":
	case "NOT_FOUND":
		return JoinResult{}, fmt.Errorf("room %q: %w", roomID, ErrNotFound)
	case "STALE":
		cur, err := decodeRoom(roomID, res[1], res[2])
		if err != nil {
			return JoinResult{}, err
		}
		return JoinResult{}, &Stale{Room: cur}
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
	room, err := decodeRoom(roomID, res[1], res[2])
	if err != nil {
		return JoinResult{}, err
	}
	members, err := decodeMembers(roomID, replyStrings(res[5]))
	if err != nil {
		return JoinResult{}, err
	}
	room.MemberCount = int32(len(members))
	chat, err := decodeChat(roomID, replyStrings(res[6]))
	if err != nil {
		return JoinResult{}, err
	}
	out := JoinResult{Room: room, AlreadyMember: res[3].(int64) == 1, Members: members, Chat: chat, ChatLoaded: res[7].(string) == "1"}
	if out.AlreadyMember {
		out.PreviousConnID = res[4].(string)
	}
	return out, nil
}

// replyStrings converts a script's array reply to its strings.
func replyStrings(v any) []string {
	vs, _ := v.([]any)
	out := make([]string, 0, len(vs))
	for _, x := range vs {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// leaveScript frees a seat (only if the connection matches, when given),
// clears the presence's room, publishes UserLeft, and writes the caller's
// room update when the room is at its version.
// KEYS members, conns, presence, room, rooms, public, channel; ARGV user,
// connection, room id, version, event, room args (6).
// Returns {removed, count, pb, ver, stale}.
var leaveScript = redis.NewScript(luaSaveRoom + `
local cur = redis.call('HGET', KEYS[2], ARGV[1])
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 or (ARGV[2] ~= '' and cur ~= ARGV[2]) then
  return {0, redis.call('HLEN', KEYS[1]), redis.call('HGET', KEYS[4], 'pb') or '', redis.call('HGET', KEYS[4], 'ver') or '0', 0}
end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
if redis.call('HGET', KEYS[3], 'room') == ARGV[3] then redis.call('HSET', KEYS[3], 'room', '') end
redis.call('PUBLISH', KEYS[7], ARGV[5])
local st = 0
if ARGV[6] ~= '' and redis.call('EXISTS', KEYS[4]) == 1 then
  if stale(KEYS[4], ARGV[4]) then st = 1 else saveroom(KEYS[4], KEYS[5], KEYS[6], 6) end
end
return {1, redis.call('HLEN', KEYS[1]), redis.call('HGET', KEYS[4], 'pb') or '', redis.call('HGET', KEYS[4], 'ver') or '0', st}
`)

// LeaveRequest is one leave: see RemoveUserFromRoomRequest.
type LeaveRequest struct {
	RoomID, UserID, ConnID string
	Version                int64
	Update                 *pb.Room
	// Event is the marshalled UserLeft, published when a seat is freed.
	Event []byte
}

// LeaveResult is the outcome of Leave. Room is nil when the room does not
// exist.
type LeaveResult struct {
	Removed bool
	Count   int
	Room    *pb.Room
	Stale   bool
}

// Leave removes the member (see leaveScript).
func (s *Store) Leave(ctx context.Context, l LeaveRequest) (LeaveResult, error) {
	args := append([]any{l.UserID, l.ConnID, l.RoomID, l.Version, l.Event}, roomArgs(l.Update)...)
	res, err := leaveScript.Run(ctx, s.rdb, []string{
		s.k.Members(l.RoomID), s.k.Conns(l.RoomID), s.k.Presence(l.UserID), s.k.Room(l.RoomID),
		s.k.Rooms(), s.k.PublicRooms(), s.k.RoomChannel(l.RoomID),
	}, args...).Slice()
	if err != nil {
		return LeaveResult{}, fmt.Errorf("leave room %q: %w", l.RoomID, err)
	}
	out := LeaveResult{Removed: res[0].(int64) == 1, Count: int(res[1].(int64)), Stale: res[4].(int64) == 1}
	if rec, _ := res[2].(string); rec != "" {
		if out.Room, err = decodeRoom(l.RoomID, rec, res[3]); err != nil {
			return LeaveResult{}, err
		}
		out.Room.MemberCount = int32(out.Count)
	}
	return out, nil
}

// kickScript bans (when a score is given), publishes Kicked, and frees the
// seat publishing UserLeft. KEYS members, conns, presence, bans, room,
// channel; ARGV user, ban score (” none), kicked event, left event, room
// id. Returns {found room, removed, count}.
var kickScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[5]) == 0 then return {0, 0, 0} end
if ARGV[2] ~= '' then redis.call('ZADD', KEYS[4], ARGV[2], ARGV[1]) end
redis.call('PUBLISH', KEYS[6], ARGV[3])
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return {1, 0, redis.call('HLEN', KEYS[1])} end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
if redis.call('HGET', KEYS[3], 'room') == ARGV[5] then redis.call('HSET', KEYS[3], 'room', '') end
redis.call('PUBLISH', KEYS[6], ARGV[4])
return {1, 1, redis.call('HLEN', KEYS[1])}
`)

// Kick bans userID until until (no ban when zero, for ever when
// Forever) and removes them, publishing kicked then left. ErrNotFound when
// the room does not exist.
func (s *Store) Kick(ctx context.Context, roomID, userID string, until time.Time, kicked, left []byte) (removed bool, count int, err error) {
	score := ""
	if !until.IsZero() {
		score = strconv.FormatFloat(banScore(until), 'f', 0, 64)
	}
	res, err := kickScript.Run(ctx, s.rdb, []string{
		s.k.Members(roomID), s.k.Conns(roomID), s.k.Presence(userID), s.k.Bans(roomID), s.k.Room(roomID), s.k.RoomChannel(roomID),
	}, userID, score, kicked, left, roomID).Int64Slice()
	if err != nil {
		return false, 0, fmt.Errorf("kick from room %q: %w", roomID, err)
	}
	if res[0] == 0 {
		return false, 0, fmt.Errorf("room %q: %w", roomID, ErrNotFound)
	}
	return res[1] == 1, int(res[2]), nil
}

// Forever is the ban end of a ban without end.
var Forever = time.UnixMilli(1 << 53)

func banScore(until time.Time) float64 {
	return math.Min(float64(until.UnixMilli()), permanent)
}

// Members returns the members of a room, earliest joiner first.
func (s *Store) Members(ctx context.Context, roomID string) ([]*pb.Member, error) {
	vals, err := s.rdb.HVals(ctx, s.k.Members(roomID)).Result()
	if err != nil {
		return nil, fmt.Errorf("room %q members: %w", roomID, err)
	}
	return decodeMembers(roomID, vals)
}

// Member returns userID's seat in the room, nil when they hold none.
func (s *Store) Member(ctx context.Context, roomID, userID string) (*pb.Member, error) {
	b, err := s.rdb.HGet(ctx, s.k.Members(roomID), userID).Bytes()
	if err == redis.Nil {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("room %q member: %w", roomID, err)
	}
	m := new(pb.Member)
	if err := proto.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("decode member of %q: %w", roomID, err)
	}
	return m, nil
}

func decodeMembers(roomID string, vals []string) ([]*pb.Member, error) {
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

// Bans returns the room's bans that have not expired at now (user id ->
// end; Forever for no end).
func (s *Store) Bans(ctx context.Context, roomID string, now time.Time) (map[string]time.Time, error) {
	zs, err := s.rdb.ZRangeByScoreWithScores(ctx, s.k.Bans(roomID), &redis.ZRangeBy{
		Min: "(" + strconv.FormatInt(now.UnixMilli(), 10), Max: "+inf",
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("bans of %q: %w", roomID, err)
	}
	out := make(map[string]time.Time, len(zs))
	for _, z := range zs {
		id, _ := z.Member.(string)
		out[id] = time.UnixMilli(int64(z.Score))
	}
	return out, nil
}

// RestoreBans puts bans back (after a Redis flush); existing entries are
// kept.
func (s *Store) RestoreBans(ctx context.Context, roomID string, bans map[string]time.Time) error {
	if len(bans) == 0 {
		return nil
	}
	zs := make([]redis.Z, 0, len(bans))
	for id, until := range bans {
		zs = append(zs, redis.Z{Score: banScore(until), Member: id})
	}
	if err := s.rdb.ZAddNX(ctx, s.k.Bans(roomID), zs...).Err(); err != nil {
		return fmt.Errorf("restore bans of %q: %w", roomID, err)
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

// RestoreSeat seats a member an edge says it holds, after Redis lost the
// room's members: no capacity or ban check (they were seated already), an
// existing seat is kept. It reports whether the room exists.
func (s *Store) RestoreSeat(ctx context.Context, roomID string, m *pb.Member) (bool, error) {
	uid := m.GetUser().GetId()
	n, err := restoreSeatScript.Run(ctx, s.rdb, []string{s.k.Room(roomID), s.k.Members(roomID), s.k.Conns(roomID), s.k.Presence(uid)},
		uid, marshal(m), m.GetConnectionId(), roomID).Int()
	if err != nil {
		return false, fmt.Errorf("restore seat in %q: %w", roomID, err)
	}
	return n == 1, nil
}

var restoreSeatScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 1 then redis.call('HSET', KEYS[3], ARGV[1], ARGV[3]) end
if redis.call('EXISTS', KEYS[4]) == 1 then redis.call('HSET', KEYS[4], 'room', ARGV[4]) end
return 1
`)

// UpdateSeatProfile puts u's profile into the seat u holds in the room of
// their presence, when what members see of it changed; it returns that
// room ("" when nothing changed or u holds no seat). The seat keeps the
// roles and guest flag it was taken with (they come from the verified
// identity at the join).
func (s *Store) UpdateSeatProfile(ctx context.Context, u *pb.User) (string, error) {
	roomID, err := s.rdb.HGet(ctx, s.k.Presence(u.GetId()), "room").Result()
	if err == redis.Nil || roomID == "" {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("presence of %q: %w", u.GetId(), err)
	}
	seat, err := s.Member(ctx, roomID, u.GetId())
	if err != nil || seat == nil {
		return "", err
	}
	old := seat.GetUser()
	if old.GetDisplayName() == u.GetDisplayName() && old.GetColor() == u.GetColor() &&
		old.GetStatusText() == u.GetStatusText() && slices.Equal(old.GetBadges(), u.GetBadges()) {
		return "", nil
	}
	seat = proto.CloneOf(seat)
	seat.User.DisplayName, seat.User.Color, seat.User.StatusText = u.GetDisplayName(), u.GetColor(), u.GetStatusText()
	seat.User.Badges = append([]string(nil), u.GetBadges()...)
	// Only a seat still held (the user may have left meanwhile).
	n, err := updateSeatScript.Run(ctx, s.rdb, []string{s.k.Members(roomID)}, u.GetId(), marshal(seat)).Int()
	if err != nil {
		return "", fmt.Errorf("update seat in %q: %w", roomID, err)
	}
	if n == 0 {
		return "", nil
	}
	return roomID, nil
}

var updateSeatScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`)
