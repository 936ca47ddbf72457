// Package ghost runs the GhostTracker (the GhostActorTracker of the
// original design), an actor of Kind "ghost-tracker" driven by a ticker's
// Tells. It remembers the edge instances it has seen alive; every round it
// also checks the instances the state service lists as holding presence,
// and now and then walks the room seats, for instances it never saw that
// have no heartbeat. When an instance is dead it removes that instance's
// users from their rooms (their userLeft reaches everybody) and marks them
// offline, so a crashed instance leaves no ghosts behind. (Each edge's own
// heartbeat is kept by the edge, which also re-registers what it holds.)
package ghost
