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
// New starts the actors and the stream reader; Register puts the gRPC
// server on a *grpc.Server; Close stops everything and waits.
package analyticssvc
