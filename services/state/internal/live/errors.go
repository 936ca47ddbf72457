package live

import "errors"

// Refusals and lookups that fail; the gRPC layer maps them to codes in one
// place. They are wrapped with context ("room %q: %w"), so match with
// errors.Is.
var (
	ErrNotFound      = errors.New("not found")
	ErrAlreadyExists = errors.New("already exists")
	ErrRoomFull      = errors.New("room is full")
	ErrBanned        = errors.New("banned from room")
	ErrMaintenance   = errors.New("maintenance mode")
	ErrNotInRoom     = errors.New("not in the room")
)
