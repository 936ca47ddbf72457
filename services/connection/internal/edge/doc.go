// Package edge is the WebSocket edge (the ConnectionManager): it accepts
// /ws connections, runs one connection actor per socket (a reader, a loop
// that owns the connection's state, a writer draining a bounded send queue,
// and a keepalive), routes each client message to the room and user
// services, fans notes out to local members and to other instances through
// Redis, and turns room and user events from Redis into frames for exactly
// the local connections they concern.
package edge
