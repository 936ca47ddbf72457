// Package roomview is what of a room leaves the services: one place that
// strips what is internal, so the state service's events and the room
// service's answers can never differ in what they reveal.
package roomview

import (
	"google.golang.org/protobuf/proto"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

// Public returns a copy of r fit for events and callers outside the
// services: no password hash, no password, has_password set.
func Public(r *pb.Room) *pb.Room {
	if r == nil {
		return nil
	}
	c := proto.CloneOf(r)
	c.HasPassword = c.PasswordHash != "" || c.HasPassword
	c.PasswordHash = ""
	if c.Settings != nil {
		c.Settings.Password = nil
	}
	return c
}
