package edge

import "github.com/pianorhythm/server/pkg/actor"

// Manager is the ConnectionManager actor (for readiness checks).
func (s *Server) Manager() *actor.Ref { return s.mgr }
