// Package events moves analytics events from the Redis stream into the
// trackers: a Reader reads the stream with a consumer group and tells each
// entry to the AnalyticsTracker actor, which hands each batch to the other
// trackers (Apply), counts events per type and only then acknowledges the
// entries.
//
// Delivery is at least once (an entry whose apply failed, or whose consumer
// died before XACK, is claimed again); every tracker is idempotent by event
// id (a "seen" key set with SET NX and a TTL in the same script as its
// counter updates), so each event counts once.
package events
