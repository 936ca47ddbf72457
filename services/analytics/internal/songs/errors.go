package songs

import "errors"

var (
	// ErrNotFound: no song has that id.
	ErrNotFound = errors.New("song not found")
	// ErrExists: a song with that id already exists.
	ErrExists = errors.New("song already exists")
)
