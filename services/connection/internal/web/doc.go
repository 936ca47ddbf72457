// Package web serves the PianoRhythm web client: one static page (HTML, CSS
// and plain JavaScript modules, no build step, no CDN) embedded in the
// binary. The page speaks the JSON form of the WebSocket protocol
// (subprotocol pianorhythm.v1.json) to /ws on the same host, so the edge
// mounts Handler at "/" next to /ws and /v1.
//
// The client is documented in static/app.js. The element ids that the
// browser suite (e2e/browser in the root module, run against the whole
// system) relies on are part of its contract: #status, #room-name,
// #members, #chat-log, #chat-input, #room-list, #refresh-rooms,
// #create-room, #password-dialog, #profile-btn, #profile-dialog, #me-name,
// #keyboard, #quota, #reconnect-banner, and data-note on every key.
package web
