package actor

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Err returns nil while every child of the root supervisor is supervised
// and, once the root has given up on one or more children, an error naming
// each of them and why (it wraps ErrTooManyRestarts and the last failure).
// It never goes back to nil: a service turns its health NOT_SERVING from
// it and is restarted from outside.
func (s *System) Err() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return errors.Join(s.gaveUp...)
}

// recordGiveUp makes the root's give-up on a child loud: remembered for
// Err, logged once at ERROR, published once as GaveUp and handed to
// Config.OnGiveUp. It runs in the root supervisor's goroutine.
func (s *System) recordGiveUp(g GaveUp) {
	err := fmt.Errorf("actor: gave up on %s %q: %w", g.Kind, g.Name, g.Err)
	s.errMu.Lock()
	s.gaveUp = append(s.gaveUp, err)
	s.errMu.Unlock()
	s.logger.Error("actor: root supervisor gave up on a child", "child", g.Name, "kind", g.Kind, "err", g.Err)
	s.events.Publish(g)
	if s.cfg.OnGiveUp != nil {
		s.cfg.OnGiveUp(g)
	}
}

// Check is a readiness check: it returns Err() if the root supervisor has
// given up on anything, and otherwise health-pings every actor of refs
// through its system lane (answered between two messages, ahead of queued
// user messages) and waits until all have answered or ctx ends. The error
// names the actors that did not answer in time (stuck in a long Receive)
// or have stopped. Give ctx a deadline: an actor that never returns from
// Receive is only reported when ctx ends. Check starts no goroutine; pings
// answered after it returned are discarded.
func (s *System) Check(ctx context.Context, refs ...*Ref) error {
	if err := s.Err(); err != nil {
		return err
	}
	type answer struct {
		i   int
		err error
	}
	answers := make(chan answer, len(refs)) // never blocks a late answer
	for i, r := range refs {
		if r == nil {
			return fmt.Errorf("actor: check: ref %d is nil", i)
		}
		r.postSystem(sysMsg{kind: sysPing, reply: func(err error) { answers <- answer{i, err} }})
	}
	answered := make([]bool, len(refs))
	var stopped []string
	for range refs {
		select {
		case a := <-answers:
			answered[a.i] = true
			if a.err != nil {
				stopped = append(stopped, refs[a.i].name)
			}
		case <-ctx.Done():
			var late []string
			for i, ok := range answered {
				if !ok {
					late = append(late, refs[i].name)
				}
			}
			msg := strings.Join(late, ", ") + " did not answer"
			if len(stopped) > 0 {
				msg = strings.Join(stopped, ", ") + " stopped; " + msg
			}
			return fmt.Errorf("actor: check: %s: %w", msg, ctx.Err())
		}
	}
	if len(stopped) > 0 {
		return fmt.Errorf("actor: check: %s stopped: %w", strings.Join(stopped, ", "), ErrStopped)
	}
	return s.Err() // the root may have given up while we waited
}
