// Package events moves analytics events from the Redis stream into the
// trackers: a Reader reads the stream with a consumer group and tells each
// entry to the AnalyticsTracker actor, which hands each batch to the other
// trackers (Apply), counts events per type and only then acknowledges the
// entries.
//
// Delivery is at least once (an entry whose apply failed, or whose consumer
// died before XACK, is claimed again); every tracker is idempotent by event
// id through its ledger in MongoDB (package ledger), so each event counts
// once, also after a restart on an empty Redis.
package events
