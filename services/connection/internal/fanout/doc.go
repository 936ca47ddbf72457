// Package fanout delivers room traffic to the connections of this instance:
// one RoomFanout actor per local room (a goroutine owning the member list,
// fed by a bounded mailbox) and a Hub that creates and stops them as members
// come and go. A delivery pushes the frame, encoded once per wire format, to
// each member's send queue without blocking, so a slow member never slows
// its room.
package fanout
