// Package analyticssvc is the analytics service: AnalyticsTracker,
// UserStatsTracker and SheetMusicStatsTracker behind
// pianorhythm.v1.AnalyticsService.
//
// Events arrive on a Redis stream (written by pkg/track, or by Track) and
// are read with a consumer group: a batch is acknowledged only after every
// tracker applied it, and each tracker applies an event once per id, so
// nothing is lost while the service is down and nothing counts twice when
// it restarts, even after a crash between apply and acknowledge (stale
// pending entries are claimed on start and periodically).
//
// Every figure lasts in MongoDB (totals, achievements, leaderboard scores
// per day, week and all time, event counts, songs with their plays,
// completions, accuracy and favorites), written through a ledger that
// applies each event once per id without transactions. Redis holds the
// stream, the leaderboards' sorted sets (a cache rebuilt from MongoDB when
// missing) and the users' channels, so a restart on an empty Redis (the
// all-in-one program's embedded one) loses nothing that was applied.
//
// New starts the actors and the stream reader; Register puts the gRPC
// server on a *grpc.Server; Close stops everything and waits.
package analyticssvc
