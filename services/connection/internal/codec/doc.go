// Package codec turns client protocol messages into WebSocket frames and
// back, in both wire formats: binary protobuf (subprotocol
// pianorhythm.v1.proto) and protojson text (pianorhythm.v1.json). One frame
// carries exactly one message in either format.
//
// A Frame encodes a ServerMessage at most once per format however many
// recipients it goes to, so a note batch fanned out to a room costs one
// encoding per format in use.
package codec
