// Package edge is the WebSocket edge. Its parts are actors of the kernel
// (pkg/actor):
//
//   - the ConnectionManager (Kind "connection-manager"): the registry of
//     this instance's connections; NewConnection, ConnectionClosed,
//     SendMessage (forwarded to the connection's actor), SendToUser,
//     ListConnections and CloseConnections;
//   - one actor per connection (Kind "connection", under the "connections"
//     supervisor): the reader goroutine decodes frames and Tells it
//     MessageReceived, RoomFanouts and the manager Tell it events; it
//     routes client messages to the room and user services (one span per
//     message), fans notes out to local members and publishes them to
//     Redis with their trace context. A writer goroutine drains its bounded
//     send queue, coalescing whatever is queued, and a keepalive pings;
//   - the RoomFanouts of package fanout.
//
// Events from Redis become deliveries for exactly the local connections
// they concern, continuing the publisher's trace in a "fanout" span.
package edge
