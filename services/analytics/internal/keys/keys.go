// Package keys names every Redis key of the analytics service, all under
// one prefix (Config.KeyPrefix), so the layout is documented in one place.
// Redis holds only caches: every figure lasts in MongoDB, and a cache that
// is missing (a Redis that came back empty) is rebuilt from it.
//
//	<p>analytics:lb:<metric>:<period>:<key>        zset  user -> score (top of the MongoDB scores, then every update)
//	<p>analytics:lb:<metric>:<period>:<key>:ready  string: the zset was rebuilt from MongoDB
//	<p>user:<user>                                 channel: UserEvents (achievement unlocked), as the state service publishes them
//
// The event stream is not here: its name is shared with the emitters
// (pkg/track) and configured on its own.
package keys

// Keys builds key names under one prefix.
type Keys struct{ root, p string }

// New returns key names under prefix (for example "pr:").
func New(prefix string) Keys { return Keys{root: prefix, p: prefix + "analytics:"} }

// Leaderboard is the sorted set of users by metric for one period.
func (k Keys) Leaderboard(metric, period, key string) string {
	return k.p + "lb:" + metric + ":" + period + ":" + key
}

// LeaderboardReady marks a leaderboard as rebuilt from MongoDB.
func (k Keys) LeaderboardReady(metric, period, key string) string {
	return k.Leaderboard(metric, period, key) + ":ready"
}

// UserChannel is the pub/sub channel of one user's events.
func (k Keys) UserChannel(id string) string { return k.root + "user:" + id }
