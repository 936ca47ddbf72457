// Package shard runs the state service's requests on a fixed set of shard
// actors under a one-for-one supervisor. The StateManager actor of the
// design receives every request and forwards it, by consistent hash of its
// key (a room or user id), to the shard that owns the key: requests for one
// key run one at a time and in order, while different keys use every core.
// The manager forwards instead of asking, so replies go straight from the
// shard to the caller.
package shard
