// Package ghost keeps the instance's heartbeat alive and runs the
// GhostTracker (the GhostActorTracker of the original design), an actor of
// Kind "ghost-tracker" driven by a ticker's Tells. It remembers the edge
// instances it has seen alive, and now and then walks the room seats for
// instances it never saw that hold seats without a heartbeat. When an
// instance is dead it removes that instance's users from their rooms (their
// userLeft reaches everybody) and marks them offline, so a crashed instance
// leaves no ghosts behind.
//
// Known limit: a user of a never-seen dead instance who is online but in no
// room is not found (the state service lists presences per instance only);
// it stays until that user's next presence change.
package ghost
