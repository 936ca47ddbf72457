// Package fanout delivers room traffic to the connections of this instance:
// one RoomFanout actor (pkg/actor, Kind "room-fanout") per local room, the
// one owner of the room's local member list, and a Hub, the directory that
// creates them under its supervisor as the first member arrives and stops
// them with the last one.
//
// A delivery pushes the frame, encoded once per wire format, to each
// member's send queue and hands state-changing events to each member's
// actor, both without blocking, so a slow member never slows its room.
//
// Nobody waits for a RoomFanout. Its mailbox fails fast (actor.FailFast):
// Deliver from a note sender or from the single Redis dispatcher returns at
// once whatever the room's state, so one full room never stalls another.
// What a full fan-out does with a delivery depends on what it carries:
//
//   - notes travel on the user lane and are dropped when it is full, and
//     counted by the caller (Dropped): a note late by a mailbox's worth of
//     traffic is noise, and the sender's next batch is what matters;
//   - state events (chat, joins and leaves, room changes, kicks) and
//     membership changes travel on the priority lane, which notes never
//     fill and which is read first. Should even that lane be full, the
//     event is dropped and the room marked out of sync: at its next message
//     the RoomFanout hands every member a Resync event, on which the
//     connection closes as slow (4003), so its client reconnects and loads
//     the room afresh instead of showing a member list or owner that is
//     wrong for ever.
package fanout
