// Package web serves the PianoRhythm web client: one static page (HTML, CSS
// and plain JavaScript modules, no build step, no CDN) embedded in the
// binary. The page speaks the JSON form of the WebSocket protocol
// (subprotocol pianorhythm.v1.json) to /ws on the same host, so the edge
// mounts Handler at "/" next to /ws and /v1.
//
// The client is documented in static/app.js; element ids that browser tests
// rely on (#status, #room-name, #members, #chat-log, #chat-input,
// #room-list, #create-room, #keyboard, #quota, #reconnect-banner, and
// data-note on every key) are part of its contract.
package web
