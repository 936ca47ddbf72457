// Package server implements pianorhythm.v1.AnalyticsService: it validates
// requests, sends writes to the trackers, reads totals straight from the
// stores, and maps domain errors to gRPC status codes in one place.
package server
