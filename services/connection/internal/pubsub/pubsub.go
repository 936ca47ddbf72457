package pubsub

import "strings"

// RoomChannel is the channel of room id's events under key prefix.
func RoomChannel(prefix, id string) string { return prefix + "room:" + id }

// UserChannel is the channel of user id's events under key prefix.
func UserChannel(prefix, id string) string { return prefix + "user:" + id }

// Kind tells which kind of channel a name is.
type Kind uint8

const (
	// Unknown: a channel of neither kind.
	Unknown Kind = iota
	// Room: a room:{id} channel.
	Room
	// User: a user:{id} channel.
	User
)

// Parse splits a channel name under prefix into its kind and id.
func Parse(prefix, channel string) (Kind, string) {
	rest, ok := strings.CutPrefix(channel, prefix)
	if !ok {
		return Unknown, ""
	}
	if id, ok := strings.CutPrefix(rest, "room:"); ok {
		return Room, id
	}
	if id, ok := strings.CutPrefix(rest, "user:"); ok {
		return User, id
	}
	return Unknown, ""
}
