// Package codec turns client protocol messages into WebSocket frames and
// back, in the wire formats: binary protobuf (subprotocol
// pianorhythm.v1.proto) and protojson text (pianorhythm.v1.json), one
// message per frame, and the Multiplayer Piano protocol of /mpp, whose
// shared part it encodes with package mpp (decoding, and what depends on
// the recipient, are the connection's mpp.Session).
//
// A Frame encodes a ServerMessage at most once per format however many
// recipients it goes to, so a note batch fanned out to a room costs one
// encoding per format in use.
package codec
