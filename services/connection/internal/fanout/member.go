package fanout

import "github.com/pianorhythm/server/services/connection/internal/codec"

// Member is one local recipient: a connection.
type Member interface {
	// ConnID identifies the connection; it must not change.
	ConnID() string
	// Format is the connection's wire format; it must not change.
	Format() codec.Format
	// Send queues an encoded frame without blocking; false means dropped.
	Send(frame []byte) bool
	// Event hands the connection's actor an event that changes its state
	// (kicked, owner changed, ...) without blocking.
	Event(ev any)
}

// Delivery is one message for every local member of a room: Frame and
// Event may each be nil; Skip names a connection left out (the sender of
// notes). It must not be changed once handed to Deliver.
type Delivery struct {
	Frame *codec.Frame
	Skip  string
	Event any
}
