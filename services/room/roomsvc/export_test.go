package roomsvc

// SetHook installs a function run at the start of every Room actor message
// (and with a nil message in Started), for tests that inject failures.
func (s *Service) SetHook(h func(roomID string, msg any)) { s.mgr.SetHook(h) }
