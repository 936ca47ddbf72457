// Package fanout delivers room traffic to the connections of this instance:
// one RoomFanout actor (pkg/actor, Kind "room-fanout") per local room owning
// the member list, and a Hub that creates them under its supervisor as the
// first member arrives and stops them with the last one.
//
// A delivery pushes the frame, encoded once per wire format, to each
// member's send queue and hands state-changing events to each member's
// actor, both without blocking, so a slow member never slows its room.
//
// Overflow: a RoomFanout mailbox blocks its senders when full (actor.Block).
// Its work per message is bounded and never waits (queue pushes and
// fail-fast Tells), so a full mailbox drains quickly; waiting there is the
// back-pressure a note sender (or the Redis dispatcher) should feel, and a
// join or leave must never be lost.
package fanout
