// Package ghost keeps the instance's heartbeat alive and runs the
// GhostTracker: it remembers the edge instances it has seen alive, and when
// one stops heartbeating it removes that instance's users from their rooms
// (their userLeft reaches everybody) and marks them offline, so a crashed
// instance leaves no ghosts behind.
package ghost
