package fanout

import "github.com/pianorhythm/server/services/connection/internal/codec"

// Member is one local recipient: a connection.
type Member interface {
	// ConnID identifies the connection; it must not change.
	ConnID() string
	// Send queues frame without blocking, in the member's wire format
	// (frame.Bytes: encoded once per format for all members); false means
	// dropped. A member whose format keeps state per connection (MPP)
	// reads the message too, which is why it gets the frame, not bytes.
	Send(frame *codec.Frame) bool
	// Event hands the connection's actor an event that changes its state
	// (kicked, owner changed, Resync, ...) without blocking.
	Event(ev any)
}

// Delivery is one message for every local member of a room: Frame and
// Event may each be nil; Skip names a connection left out (the sender of
// notes). Lossy marks what may be dropped when the room's fan-out is full
// (notes); everything else travels with the membership changes, on the
// priority lane. A Delivery must not be changed once handed to Deliver.
type Delivery struct {
	Frame *codec.Frame
	Skip  string
	Event any
	Lossy bool
}

// Resync is the event a member gets when its room's fan-out had to drop a
// state event: what the member shows of the room may be wrong.
type Resync struct{ RoomID string }

// Result is what became of a delivery.
type Result uint8

const (
	// NoRoom: no member of the room is here.
	NoRoom Result = iota
	// Delivered: queued for the room's members.
	Delivered
	// Dropped: the room's fan-out was full (see the package doc).
	Dropped
)
