// Package keys names every Redis key and channel of the state service, so
// the layout lives in one place (and in ../../README.md).
package keys

// Keys builds key names under one prefix. The zero value uses no prefix; the
// service always sets one ("pr:" by default, a unique one per test).
// It is a value type, safe for concurrent use.
type Keys struct{ Prefix string }

// User is a STRING holding a marshalled pb.User.
func (k Keys) User(id string) string { return k.Prefix + "user:" + id }

// Presence is a HASH {inst, conn, room, since} of an online user.
func (k Keys) Presence(userID string) string { return k.Prefix + "presence:" + userID }

// Instance is a STRING with a TTL, the heartbeat of one edge instance.
func (k Keys) Instance(id string) string { return k.Prefix + "instance:" + id }

// Instances is a ZSET of instance id -> heartbeat expiry (unix ms).
func (k Keys) Instances() string { return k.Prefix + "instances" }

// PresenceInstances is a SET of the instance ids whose InstancePresence set
// is not empty (so a dead instance's users can be found).
func (k Keys) PresenceInstances() string { return k.Prefix + "instances:presence" }

// InstancePresence is a SET of the user ids whose connection an instance holds.
func (k Keys) InstancePresence(id string) string { return k.Prefix + "instance:" + id + ":presence" }

// Room is a HASH {pb, ver, cap, maint, persist, chatwarm} of one room.
func (k Keys) Room(id string) string { return k.Prefix + "room:" + id }

// Members is a HASH user id -> marshalled pb.Member.
func (k Keys) Members(roomID string) string { return k.Prefix + "room:" + roomID + ":members" }

// Conns is a HASH user id -> connection id holding the seat.
func (k Keys) Conns(roomID string) string { return k.Prefix + "room:" + roomID + ":conns" }

// Bans is a ZSET user id -> ban expiry (unix ms).
func (k Keys) Bans(roomID string) string { return k.Prefix + "room:" + roomID + ":bans" }

// Chat is a LIST of marshalled pb.ChatMessage, oldest first, trimmed.
func (k Keys) Chat(roomID string) string { return k.Prefix + "room:" + roomID + ":chat" }

// Posted is a STRING with a TTL marking a chat message id as posted (so a
// retried post changes nothing).
func (k Keys) Posted(roomID, msgID string) string {
	return k.Prefix + "room:" + roomID + ":posted:" + msgID
}

// Rooms is a ZSET (all scores 0, ordered by id) of every room.
func (k Keys) Rooms() string { return k.Prefix + "rooms" }

// PublicRooms is a ZSET (all scores 0) of the listed rooms.
func (k Keys) PublicRooms() string { return k.Prefix + "rooms:public" }

// Friends is a HASH other user id -> pb.FriendStatus number, with the
// field "~" once loaded from the archive.
func (k Keys) Friends(userID string) string { return k.Prefix + "friends:" + userID }

// Config is a HASH {maintenance, motd, ~} of server-wide settings ("~"
// once restored or set).
func (k Keys) Config() string { return k.Prefix + "config" }

// Epoch is a STRING (unix ms of the last restore) present while Redis
// holds the rooms and settings of the archive.
func (k Keys) Epoch() string { return k.Prefix + "state:epoch" }

// RestoreLock is a STRING with a TTL held by the replica restoring Redis.
func (k Keys) RestoreLock() string { return k.Prefix + "state:restoring" }

// Hit is a STRING counter of one fixed rate-limit window, with a TTL.
func (k Keys) Hit(key string) string { return k.Prefix + "rl:" + key }

// RoomChannel is the pub/sub channel of a room's events.
func (k Keys) RoomChannel(roomID string) string { return k.Prefix + "room:" + roomID }

// UserChannel is the pub/sub channel of a user's events.
func (k Keys) UserChannel(userID string) string { return k.Prefix + "user:" + userID }
