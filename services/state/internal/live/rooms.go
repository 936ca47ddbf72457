package live

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

// Default capacities, from the product rules, and the most seats state
// stores for any room: who may go past RoomCapacity (staff, for concerts
// and classes, up to a configured ceiling) is the room service's rule.
const (
	RoomCapacity  = 20
	LobbyCapacity = 30
	MaxCapacity   = 10_000
)

// Capacity is the number of seats of r: settings.max_players, or 20 (30 for
// lobbies) when unset or zero.
func Capacity(r *pb.Room) int {
	if n := r.GetSettings().GetMaxPlayers(); n > 0 {
		return int(n)
	}
	if r.GetLobby() {
		return LobbyCapacity
	}
	return RoomCapacity
}

// Listed reports whether r appears in public room lists: settings.public,
// with an unset value meaning public for lobbies and private otherwise.
func Listed(r *pb.Room) bool {
	s := r.GetSettings()
	if s != nil && s.Public != nil {
		return s.GetPublic()
	}
	return r.GetLobby()
}

// luaSaveRoom is the one definition of a room write, shared by the
// scripts that write a room along with something else: the hash fields
// (the record, capacity, maintenance, persistence), a new version, and the
// index entries. Its ARGV slice starts at base: pb, cap, maint, persist,
// listed, id. KEYS[room], KEYS[rooms], KEYS[public] are given by index.
const luaSaveRoom = `
local function saveroom(room, rooms, public, base)
  local v = redis.call('HINCRBY', room, 'ver', 1)
  redis.call('HSET', room, 'pb', ARGV[base], 'cap', ARGV[base+1], 'maint', ARGV[base+2], 'persist', ARGV[base+3])
  redis.call('ZADD', rooms, 0, ARGV[base+5])
  if ARGV[base+4] == '1' then redis.call('ZADD', public, 0, ARGV[base+5]) else redis.call('ZREM', public, ARGV[base+5]) end
  return v
end
local function stale(room, want)
  return want ~= '0' and (redis.call('HGET', room, 'ver') or '0') ~= want
end
`

// roomArgs are the ARGV of luaSaveRoom for r ("" record when r is nil:
// nothing to write).
func roomArgs(r *pb.Room) []any {
	if r == nil {
		return []any{"", 0, "0", "0", "0", ""}
	}
	stored := proto.CloneOf(r)
	stored.MemberCount, stored.Version = 0, 0
	return []any{marshal(stored), Capacity(r), flag(r.GetSettings().GetMaintenance()), flag(r.GetPersistent()), flag(Listed(r)), r.GetId()}
}

// Stale is the outcome of a write refused because the room's version is
// not the one the caller decided on: Room is the current room.
type Stale struct{ Room *pb.Room }

func (s *Stale) Error() string {
	return fmt.Sprintf("room %q changed (version %d)", s.Room.GetId(), s.Room.GetVersion())
}

// saveRoomScript writes a room: KEYS room, rooms, public, channel; ARGV
// create-only, version, warm, room args (6), events... Create-only refuses
// an existing room; an update refuses a missing one and a stale version.
// warm marks a new room's chat loaded (it has no archived history).
// Returns {'OK', version} / {'EXISTS'} / {'NOT_FOUND'} / {'STALE', pb, ver}.
var saveRoomScript = redis.NewScript(luaSaveRoom + `
local exists = redis.call('EXISTS', KEYS[1]) == 1
if ARGV[1] == '1' and exists then return {'EXISTS'} end
if ARGV[1] ~= '1' and not exists then return {'NOT_FOUND'} end
if exists and stale(KEYS[1], ARGV[2]) then
  return {'STALE', redis.call('HGET', KEYS[1], 'pb'), redis.call('HGET', KEYS[1], 'ver')}
end
local v = saveroom(KEYS[1], KEYS[2], KEYS[3], 4)
if ARGV[3] == '1' then redis.call('HSET', KEYS[1], 'chatwarm', '1') end
for i = 10, #ARGV do redis.call('PUBLISH', KEYS[4], ARGV[i]) end
return {'OK', v}
`)

// SaveRoom creates (createOnly) or updates r, publishing events (marshalled
// RoomEvents) in the same step; version is the one the change was decided
// on (0: unconditional). It returns the stored room with its new version.
// Errors: ErrAlreadyExists, ErrNotFound, *Stale.
func (s *Store) SaveRoom(ctx context.Context, r *pb.Room, createOnly, warm bool, version int64, events ...[]byte) (*pb.Room, error) {
	args := append([]any{flag(createOnly), version, flag(warm)}, roomArgs(r)...)
	for _, e := range events {
		args = append(args, e)
	}
	res, err := saveRoomScript.Run(ctx, s.rdb,
		[]string{s.k.Room(r.GetId()), s.k.Rooms(), s.k.PublicRooms(), s.k.RoomChannel(r.GetId())}, args...).Slice()
	if err != nil {
		return nil, fmt.Errorf("save room %q: %w", r.GetId(), err)
	}
	switch res[0].(string) {
	case "EXISTS":
		return nil, fmt.Errorf("room %q: %w", r.GetId(), ErrAlreadyExists)
	case "NOT_FOUND":
		return nil, fmt.Errorf("room %q: %w", r.GetId(), ErrNotFound)
	case "STALE":
		cur, err := decodeRoom(r.GetId(), res[1], res[2])
		if err != nil {
			return nil, err
		}
		return nil, &Stale{Room: cur}
	}
	out := proto.CloneOf(r)
	out.Version = res[1].(int64)
	return out, nil
}

// decodeRoom decodes a room record and its version from script results.
func decodeRoom(id string, rec, ver any) (*pb.Room, error) {
	b, _ := rec.(string)
	r := new(pb.Room)
	if err := proto.Unmarshal([]byte(b), r); err != nil {
		return nil, fmt.Errorf("decode room %q: %w", id, err)
	}
	switch v := ver.(type) {
	case string:
		r.Version, _ = strconv.ParseInt(v, 10, 64)
	case int64:
		r.Version = v
	}
	return r, nil
}

// GetRoom returns the room with its member_count and version, or
// ErrNotFound.
func (s *Store) GetRoom(ctx context.Context, id string) (*pb.Room, error) {
	rooms, err := s.getRooms(ctx, []string{id})
	if err != nil {
		return nil, err
	}
	if rooms[0] == nil {
		return nil, fmt.Errorf("room %q: %w", id, ErrNotFound)
	}
	return rooms[0], nil
}

// getRooms loads rooms in one round trip; a missing room is nil.
func (s *Store) getRooms(ctx context.Context, ids []string) ([]*pb.Room, error) {
	pipe := s.rdb.Pipeline()
	recs := make([]*redis.SliceCmd, len(ids))
	counts := make([]*redis.IntCmd, len(ids))
	for i, id := range ids {
		recs[i] = pipe.HMGet(ctx, s.k.Room(id), "pb", "ver")
		counts[i] = pipe.HLen(ctx, s.k.Members(id))
	}
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		return nil, fmt.Errorf("get rooms: %w", err)
	}
	out := make([]*pb.Room, len(ids))
	for i, id := range ids {
		v := recs[i].Val()
		if len(v) < 2 || v[0] == nil {
			continue
		}
		r, err := decodeRoom(id, v[0], v[1])
		if err != nil {
			return nil, err
		}
		r.MemberCount = int32(counts[i].Val())
		out[i] = r
	}
	return out, nil
}

// deleteRoomScript: KEYS room, members, conns, bans, chat, rooms, public,
// channel; ARGV id, event. Returns 0 when the room did not exist.
var deleteRoomScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
redis.call('ZREM', KEYS[6], ARGV[1])
redis.call('ZREM', KEYS[7], ARGV[1])
redis.call('PUBLISH', KEYS[8], ARGV[2])
return 1
`)

// DeleteRoom removes the room, its members, bans, recent chat and index
// entries, and publishes event; ErrNotFound when there is no such room.
func (s *Store) DeleteRoom(ctx context.Context, id string, event []byte) error {
	n, err := deleteRoomScript.Run(ctx, s.rdb, []string{
		s.k.Room(id), s.k.Members(id), s.k.Conns(id), s.k.Bans(id), s.k.Chat(id), s.k.Rooms(), s.k.PublicRooms(), s.k.RoomChannel(id),
	}, id, event).Int()
	if err != nil {
		return fmt.Errorf("delete room %q: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("room %q: %w", id, ErrNotFound)
	}
	return nil
}

// ListRooms returns up to n rooms ordered by id, starting after the id
// after (exclusive; "" for the first page), and the id to continue after
// ("" when there are no more).
func (s *Store) ListRooms(ctx context.Context, includePrivate bool, after string, n int) ([]*pb.Room, string, error) {
	index := s.k.PublicRooms()
	if includePrivate {
		index = s.k.Rooms()
	}
	min := "-"
	if after != "" {
		min = "(" + after
	}
	ids, err := s.rdb.ZRangeByLex(ctx, index, &redis.ZRangeBy{Min: min, Max: "+", Count: int64(n + 1)}).Result()
	if err != nil {
		return nil, "", fmt.Errorf("list rooms: %w", err)
	}
	next := ""
	if len(ids) > n {
		ids = ids[:n]
		next = ids[n-1]
	}
	if len(ids) == 0 {
		return nil, "", nil
	}
	rooms, err := s.getRooms(ctx, ids)
	if err != nil {
		return nil, "", err
	}
	out := rooms[:0]
	for _, r := range rooms {
		if r != nil { // deleted between the two reads
			out = append(out, r)
		}
	}
	return out, next, nil
}

// restoreRoomScript puts an archived room back unless it exists: KEYS
// room, rooms, public; ARGV room args (6), version. The version goes one
// past the archived one, so a caller holding the archived version decides
// again on what Redis holds now. Returns 1 when restored.
var restoreRoomScript = redis.NewScript(luaSaveRoom + `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'ver', ARGV[7])
saveroom(KEYS[1], KEYS[2], KEYS[3], 1)
return 1
`)

// RestoreRoom writes an archived room back into Redis unless it is there;
// its chat list stays cold, so the next read loads it from the archive.
func (s *Store) RestoreRoom(ctx context.Context, r *pb.Room) (bool, error) {
	args := append(roomArgs(r), r.GetVersion())
	n, err := restoreRoomScript.Run(ctx, s.rdb, []string{s.k.Room(r.GetId()), s.k.Rooms(), s.k.PublicRooms()}, args...).Int()
	if err != nil {
		return false, fmt.Errorf("restore room %q: %w", r.GetId(), err)
	}
	return n == 1, nil
}
