package monitorsvc

import "context"

// Flush waits until every error report queued so far is grouped and the
// alerts it raised are delivered.
func (s *Service) Flush(ctx context.Context) error { return s.tracker.Flush(ctx) }
