// Package pubsub is the edge's side of the Redis channels: the channel
// names (shared with the state service: "{prefix}room:{id}" and
// "{prefix}user:{id}"), and a Subscriber that keeps one Redis subscription
// per channel however many local connections want it, dispatching every
// message to one handler.
package pubsub
