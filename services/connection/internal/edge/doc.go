// Package edge is the WebSocket edge. Its parts:
//
//   - the ConnectionManager (actor Kind "connection-manager"): the registry
//     of this instance's connections; NewConnection, ConnectionClosed,
//     SendMessage (forwarded to the connection's actor), SendToUser,
//     ListConnections and CloseConnections;
//   - one actor per connection (Kind "connection", under the "connections"
//     supervisor), the one owner of the connection's session (user, room,
//     quota, join rate, calls). Client messages are routed by one table
//     (handlers.go, keyed by the ClientMessage payload oneof): notes and pings
//     are answered on the actor at once; everything that waits (gRPC calls
//     to the room and user services, Redis subscriptions) is a call, run
//     one at a time on a worker goroutine, whose result comes back to
//     the actor as a message. So a slow chat or join never holds the same
//     user's notes, and a connection's calls stay in order. The reader, the
//     writer (bounded send queue, coalesced writes) and the keepalive touch
//     only the socket and the queue;
//   - two wire formats of one edge: /ws (our protocol, proto or JSON) and
//     /mpp (Multiplayer Piano's, mppconn.go): an MPP connection is the
//     same connection, admitted at its hi, whose frames its mpp.Session
//     decodes and through which everything sent to it goes (sendFrame,
//     sendMsg), so it shares rooms, quotas and rules with everyone;
//   - the RoomFanouts of package fanout, which never make a sender wait;
//   - the room list watchers (package roomwatch): one poll of the room
//     list per instance while any connection watches it;
//   - the Redis side (package pubsub): one subscription per channel, a
//     publisher that drops and counts rather than waits, and a watcher, so
//     local play never depends on Redis, what needs it answers UNAVAILABLE
//     while it is down, and the subscriptions come back with it;
//   - the instance's registration (instance.go): the heartbeat, and the
//     re-registration of every connection with RestoreInstance when the
//     state service lost the instance.
//
// Events from Redis become deliveries for exactly the local connections
// they concern, continuing the publisher's trace in a "fanout" span.
// Notes and cursors never go through gRPC: the sender's actor relays them.
// Analytics events are emitted where they happen (Deps.Events): the keys
// struck, counted per connection (track.Notes), and connections opened
// and closed.
package edge
