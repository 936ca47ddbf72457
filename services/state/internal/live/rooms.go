package live

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

// Default capacities, from the product rules.
const (
	RoomCapacity  = 20
	LobbyCapacity = 30
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

// saveRoomScript writes the room hash and its index entries; with
// create-only it refuses an existing room. Returns {written, previous
// persist flag}.
var saveRoomScript = redis.NewScript(`
local exists = redis.call('EXISTS', KEYS[1])
if ARGV[5] == '1' and exists == 1 then return {0, ''} end
local prev = redis.call('HGET', KEYS[1], 'persist') or '0'
redis.call('HSET', KEYS[1], 'pb', ARGV[1], 'cap', ARGV[2], 'maint', ARGV[3], 'persist', ARGV[4])
redis.call('ZADD', KEYS[2], 0, ARGV[6])
if ARGV[7] == '1' then redis.call('ZADD', KEYS[3], 0, ARGV[6]) else redis.call('ZREM', KEYS[3], ARGV[6]) end
return {1, prev}
`)

// SaveRoom stores r (member_count is not stored: it is the size of the
// members hash). With createOnly it fails with ErrAlreadyExists when the
// room exists. It returns whether the room was persistent before.
func (s *Store) SaveRoom(ctx context.Context, r *pb.Room, createOnly bool) (wasPersistent bool, err error) {
	stored := proto.Clone(r).(*pb.Room)
	stored.MemberCount = 0
	res, err := saveRoomScript.Run(ctx, s.rdb,
		[]string{s.k.Room(r.GetId()), s.k.Rooms(), s.k.PublicRooms()},
		marshal(stored), Capacity(r), flag(r.GetSettings().GetMaintenance()), flag(r.GetPersistent()),
		flag(createOnly), r.GetId(), flag(Listed(r)),
	).Slice()
	if err != nil {
		return false, fmt.Errorf("save room %q: %w", r.GetId(), err)
	}
	if res[0].(int64) == 0 {
		return false, fmt.Errorf("room %q: %w", r.GetId(), ErrAlreadyExists)
	}
	return res[1].(string) == "1", nil
}

// GetRoom returns the room with its member_count, or ErrNotFound.
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
	pbs := make([]*redis.StringCmd, len(ids))
	counts := make([]*redis.IntCmd, len(ids))
	for i, id := range ids {
		pbs[i] = pipe.HGet(ctx, s.k.Room(id), "pb")
		counts[i] = pipe.HLen(ctx, s.k.Members(id))
	}
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		return nil, fmt.Errorf("get rooms: %w", err)
	}
	out := make([]*pb.Room, len(ids))
	for i := range ids {
		b, err := pbs[i].Bytes()
		if err == redis.Nil {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("get room %q: %w", ids[i], err)
		}
		r := new(pb.Room)
		if err := proto.Unmarshal(b, r); err != nil {
			return nil, fmt.Errorf("decode room %q: %w", ids[i], err)
		}
		r.MemberCount = int32(counts[i].Val())
		out[i] = r
	}
	return out, nil
}

var deleteRoomScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local prev = redis.call('HGET', KEYS[1], 'persist')
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
redis.call('ZREM', KEYS[6], ARGV[1])
redis.call('ZREM', KEYS[7], ARGV[1])
if prev == '1' then return 1 end
return 0
`)

// DeleteRoom removes the room, its members, bans, recent chat and index
// entries. It returns whether the room was persistent, or ErrNotFound.
func (s *Store) DeleteRoom(ctx context.Context, id string) (wasPersistent bool, err error) {
	n, err := deleteRoomScript.Run(ctx, s.rdb, []string{
		s.k.Room(id), s.k.Members(id), s.k.Conns(id), s.k.Bans(id), s.k.Chat(id), s.k.Rooms(), s.k.PublicRooms(),
	}, id).Int()
	if err != nil {
		return false, fmt.Errorf("delete room %q: %w", id, err)
	}
	if n < 0 {
		return false, fmt.Errorf("room %q: %w", id, ErrNotFound)
	}
	return n == 1, nil
}

// RoomIndexExists reports whether the room index exists; it is gone only
// after a Redis flush (or before the first room), when persistent rooms
// must be reloaded from MongoDB.
func (s *Store) RoomIndexExists(ctx context.Context) (bool, error) {
	n, err := s.rdb.Exists(ctx, s.k.Rooms()).Result()
	if err != nil {
		return false, fmt.Errorf("check room index: %w", err)
	}
	return n == 1, nil
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
