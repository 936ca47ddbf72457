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

// Room is a HASH {pb, cap, maint, persist, chatwarm} of one room.
func (k Keys) Room(id string) string { return k.Prefix + "room:" + id }

// Members is a HASH user id -> marshalled pb.Member.
func (k Keys) Members(roomID string) string { return k.Prefix + "room:" + roomID + ":members" }

// Conns is a HASH user id -> connection id holding the seat.
func (k Keys) Conns(roomID string) string { return k.Prefix + "room:" + roomID + ":conns" }

// Bans is a ZSET user id -> ban expiry (unix ms).
func (k Keys) Bans(roomID string) string { return k.Prefix + "room:" + roomID + ":bans" }

// Chat is a LIST of marshalled pb.ChatMessage, oldest first, trimmed.
func (k Keys) Chat(roomID string) string { return k.Prefix + "room:" + roomID + ":chat" }

// Rooms is a ZSET (all scores 0, ordered by id) of every room.
func (k Keys) Rooms() string { return k.Prefix + "rooms" }

// PublicRooms is a ZSET (all scores 0) of the listed rooms.
func (k Keys) PublicRooms() string { return k.Prefix + "rooms:public" }

// Friends is a HASH other user id -> pb.FriendStatus number.
func (k Keys) Friends(userID string) string { return k.Prefix + "friends:" + userID }

// Config is a HASH {maintenance, motd} of server-wide settings.
func (k Keys) Config() string { return k.Prefix + "config" }

// Token is a HASH {user, family, used} of one refresh token, with a TTL.
func (k Keys) Token(id string) string { return k.Prefix + "rt:" + id }

// TokenFamily is a SET of the token ids of one family.
func (k Keys) TokenFamily(id string) string { return k.Prefix + "rtfam:" + id }

// RevokedFamily is a STRING with a TTL marking a revoked family.
func (k Keys) RevokedFamily(id string) string { return k.Prefix + "rtrevoked:" + id }

// Hit is a STRING counter of one fixed rate-limit window, with a TTL.
func (k Keys) Hit(key string) string { return k.Prefix + "rl:" + key }

// RoomChannel is the pub/sub channel of a room's events.
func (k Keys) RoomChannel(roomID string) string { return k.Prefix + "room:" + roomID }

// UserChannel is the pub/sub channel of a user's events.
func (k Keys) UserChannel(userID string) string { return k.Prefix + "user:" + userID }
