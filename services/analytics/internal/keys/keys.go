// Package keys names every Redis key of the analytics service, all under
// one prefix (Config.KeyPrefix), so the layout is documented in one place:
//
//	<p>analytics:counts                   hash  event type -> events counted
//	<p>analytics:seen:<tracker>:<event>   string, with TTL: event applied by tracker
//	<p>analytics:user:<user>              hash  metric -> total
//	<p>analytics:achievements:<user>      hash  achievement id -> unlocked at (unix ms)
//	<p>analytics:leaderboard:<metric>     zset  user -> total
//	<p>analytics:song:<song>              hash  plays, favorites (the size of the fans set)
//	<p>analytics:song:<song>:fans         set   user ids who favorited the song
//	<p>analytics:songs:top                zset  song -> plays
//
// The event stream is not here: its name is shared with the emitters
// (pkg/track) and configured on its own.
package keys

// Keys builds key names under one prefix.
type Keys struct{ p string }

// New returns key names under prefix (for example "pr:").
func New(prefix string) Keys { return Keys{p: prefix + "analytics:"} }

// Counts is the hash of events counted per type.
func (k Keys) Counts() string { return k.p + "counts" }

// Seen marks event id as applied by tracker ("counts", "users", "songs").
func (k Keys) Seen(tracker, id string) string { return k.p + "seen:" + tracker + ":" + id }

// User is the hash of one user's totals.
func (k Keys) User(id string) string { return k.p + "user:" + id }

// Achievements is the hash of one user's unlocked achievements.
func (k Keys) Achievements(id string) string { return k.p + "achievements:" + id }

// Leaderboard is the sorted set of users by metric.
func (k Keys) Leaderboard(metric string) string { return k.p + "leaderboard:" + metric }

// Song is the hash of one song's plays and favorites.
func (k Keys) Song(id string) string { return k.p + "song:" + id }

// SongFans is the set of user ids who favorited a song.
func (k Keys) SongFans(id string) string { return k.p + "song:" + id + ":fans" }

// TopSongs is the sorted set of songs by plays.
func (k Keys) TopSongs() string { return k.p + "songs:top" }
