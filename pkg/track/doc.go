// Package track emits analytics events to a Redis stream
// (analytics:events), fire and forget: the caller never waits for Redis, and
// when Redis cannot keep up events are dropped and counted rather than
// slowing a room down. The analytics service consumes the stream.
//
// Emitter writes any event; Notes aggregates note counts per connection
// into one NOTES event per connection per second, so the edge never emits
// an event per note.
package track
