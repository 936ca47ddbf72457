package connsvc

import "context"

// optional names what an edge reaches but serves players without
// (analytics, monitor, its own admin service): a failing one is reported
// under "degraded" by /readyz without failing it. A probe failing for
// them would, in Kubernetes, take every edge out of the load balancer
// while play, chat and rooms work. Its own actors, Redis, state, user and
// room are required.
var optional = map[string]bool{"analytics": true, "monitor": true, "connection": true}

// Ready reports whether the edge itself can work: its actor system has
// given up on nothing and the ConnectionManager answers within ctx's
// deadline. /readyz adds the peers it needs.
func (s *Service) Ready(ctx context.Context) error {
	return s.sys.Check(ctx, s.edge.Manager())
}
