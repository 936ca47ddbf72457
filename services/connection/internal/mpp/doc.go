// Package mpp translates the Multiplayer Piano (MPP) protocol to ours and
// back, so MPP clients and bots can use the edge at /mpp as one more wire
// format: decoding an MPP frame (a JSON array of messages with an m) into
// client messages of our protocol, encoding our server messages as MPP
// frames, and the little state an MPP connection needs (Session: the hi
// handshake, the cursor rate limit, the channel as the client knows it).
//
// What is supported and how each message maps is in README.md; the MPP
// protocol as the tests understand it is in mpptest/PROTOCOL.md.
//
// Encode is the part of a server message that is the same for every MPP
// recipient (notes, chat, ...): the edge computes it once per frame.
// Everything else is per connection, in Session.
package mpp
