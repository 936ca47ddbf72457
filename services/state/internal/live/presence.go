package live

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

// setOnlineScript moves the user's presence to a new instance/connection.
// KEYS presence, new instance set, presence-instances index; ARGV user,
// instance, conn, now ms, prefix, room.
var setOnlineScript = redis.NewScript(`
local old = redis.call('HGET', KEYS[1], 'inst')
if old and old ~= ARGV[2] then
  local oldSet = ARGV[5] .. 'instance:' .. old .. ':presence'
  redis.call('SREM', oldSet, ARGV[1])
  if redis.call('SCARD', oldSet) == 0 then redis.call('SREM', KEYS[3], old) end
end
redis.call('HSET', KEYS[1], 'inst', ARGV[2], 'conn', ARGV[3], 'since', ARGV[4], 'room', ARGV[6])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[2])
return 1
`)

// SetOnline records that userID is connected through instanceID, in
// roomID ("" for none).
func (s *Store) SetOnline(ctx context.Context, userID, instanceID, connID, roomID string, now time.Time) (*pb.Presence, error) {
	err := setOnlineScript.Run(ctx, s.rdb, []string{s.k.Presence(userID), s.k.InstancePresence(instanceID), s.k.PresenceInstances()},
		userID, instanceID, connID, now.UnixMilli(), s.k.Prefix, roomID).Err()
	if err != nil {
		return nil, fmt.Errorf("set %q online: %w", userID, err)
	}
	return &pb.Presence{UserId: userID, Online: true, InstanceId: instanceID, ConnectionId: connID, RoomId: roomID, Since: timestamppb.New(now)}, nil
}

// setOfflineScript: KEYS presence, presence-instances index; ARGV user,
// conn (” = any), prefix. Returns {0} not online, {2} another connection
// holds it, {1, conn} cleared.
var setOfflineScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'conn')
if not cur then return {0} end
if ARGV[2] ~= '' and cur ~= ARGV[2] then return {2} end
local inst = redis.call('HGET', KEYS[1], 'inst')
if inst then
  local set = ARGV[3] .. 'instance:' .. inst .. ':presence'
  redis.call('SREM', set, ARGV[1])
  if redis.call('SCARD', set) == 0 then redis.call('SREM', KEYS[2], inst) end
end
redis.call('DEL', KEYS[1])
return {1, cur}
`)

// SetOffline clears the user's presence if connID holds it (any connection
// when empty). It returns the presence after the call and the connection
// whose session ended ("" when nothing was cleared).
func (s *Store) SetOffline(ctx context.Context, userID, connID string) (*pb.Presence, string, error) {
	res, err := setOfflineScript.Run(ctx, s.rdb, []string{s.k.Presence(userID), s.k.PresenceInstances()}, userID, connID, s.k.Prefix).Slice()
	if err != nil {
		return nil, "", fmt.Errorf("set %q offline: %w", userID, err)
	}
	switch res[0].(int64) {
	case 1:
		return &pb.Presence{UserId: userID}, res[1].(string), nil
	case 2:
		ps, err := s.Presence(ctx, []string{userID})
		if err != nil {
			return nil, "", err
		}
		return ps[0], "", nil
	}
	return &pb.Presence{UserId: userID}, "", nil
}

// Presence returns one entry per user id, offline ones included.
func (s *Store) Presence(ctx context.Context, userIDs []string) ([]*pb.Presence, error) {
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, len(userIDs))
	for i, id := range userIDs {
		cmds[i] = pipe.HGetAll(ctx, s.k.Presence(id))
	}
	if len(userIDs) > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, fmt.Errorf("get presence: %w", err)
		}
	}
	out := make([]*pb.Presence, len(userIDs))
	for i, id := range userIDs {
		h := cmds[i].Val()
		p := &pb.Presence{UserId: id}
		if conn, ok := h["conn"]; ok {
			p.Online = true
			p.ConnectionId = conn
			p.InstanceId = h["inst"]
			p.RoomId = h["room"]
			if ms, err := strconv.ParseInt(h["since"], 10, 64); err == nil {
				p.Since = timestamppb.New(time.UnixMilli(ms))
			}
		}
		out[i] = p
	}
	return out, nil
}

// InstancePresence returns the presences held by one edge instance.
func (s *Store) InstancePresence(ctx context.Context, instanceID string) ([]*pb.Presence, error) {
	ids, err := s.rdb.SMembers(ctx, s.k.InstancePresence(instanceID)).Result()
	if err != nil {
		return nil, fmt.Errorf("presence of instance %q: %w", instanceID, err)
	}
	ps, err := s.Presence(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := ps[:0]
	for _, p := range ps {
		if p.GetOnline() && p.GetInstanceId() == instanceID {
			out = append(out, p)
		}
	}
	return out, nil
}
