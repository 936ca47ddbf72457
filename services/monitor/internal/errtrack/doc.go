// Package errtrack is the ErrorTracker (the SentryActor of the original
// server): error reports are grouped by fingerprint in an actor, with
// counts, first and last seen and the last trace id, and a group that
// spikes raises an alert sent to a webhook by a second actor, so a slow
// webhook never delays the grouping.
package errtrack
