package actor

import (
	"fmt"
	"slices"
	"time"
)

// round is one restart in progress, driven by events so that the
// supervisor never waits in its loop: stop some children (last started
// first), wait out the backoff on a timer, then start them again in start
// order, each after the previous one's Started has returned, then finish.
// Each step ends when the child replies (or the timer fires) with an
// evStep event. The same machinery runs the parent's requests (suspend
// all, resume all) and an escalation (suspend all, then tell the parent).
type round struct {
	id      uint64
	members []node        // the children it holds: their failures wait for it
	stops   []node        // suspended first, in this order
	delay   time.Duration // then waited out
	starts  []node        // then resumed, in this order
	step    int           // the step awaited: stops, then the delay, then starts
	// stopTimer cancels the backoff timer, once it is set.
	stopTimer func() bool
	// finish runs when the round has done every step (not when cancelled).
	finish func()
	// reply acknowledges the parent's request the round carries out; it is
	// also called when the round is cancelled, so the parent never waits
	// for an answer that will not come.
	reply func(error)
}

// begin registers rd, marks its members and starts its first step.
func (s *Supervisor) begin(rd *round) {
	s.lastRound++
	rd.id = s.lastRound
	s.rounds[rd.id] = rd
	for _, n := range rd.members {
		n.supervision().round = rd
	}
	s.advance(rd)
}

// advance starts step rd.step, or ends the round after its last one.
func (s *Supervisor) advance(rd *round) {
	id := rd.id
	for {
		k, n := rd.step, len(rd.stops)
		done := func(error) { s.post(supEvent{kind: evStep, round: id, step: k}) }
		switch {
		case k < n:
			rd.stops[k].suspendNode(done)
			return
		case k == n && rd.delay > 0:
			rd.stopTimer = s.sys.cfg.afterFunc(rd.delay, func() { done(nil) })
			return
		case k == n:
			rd.step++ // no backoff to wait for
			continue
		case k-n-1 < len(rd.starts):
			rd.starts[k-n-1].resumeNode(done)
			return
		}
		s.release(rd)
		if rd.finish != nil {
			rd.finish()
		}
		if rd.reply != nil {
			rd.reply(nil)
		}
		s.retryDeferred()
		return
	}
}

// stepDone moves a round on when the step it waits for is done. Replies to
// cancelled rounds are ignored.
func (s *Supervisor) stepDone(ev supEvent) {
	rd, ok := s.rounds[ev.round]
	if !ok || ev.step != rd.step {
		return
	}
	rd.step++
	s.advance(rd)
}

// release forgets rd and frees its members and its timer.
func (s *Supervisor) release(rd *round) {
	delete(s.rounds, rd.id)
	if rd.stopTimer != nil {
		rd.stopTimer()
	}
	for _, n := range rd.members {
		if cs := n.supervision(); cs.round == rd {
			cs.round = nil
		}
	}
}

// cancelRounds abandons every round in progress: a suspend, resume or
// shutdown supersedes them.
func (s *Supervisor) cancelRounds(err error) {
	for _, rd := range s.rounds {
		s.release(rd)
		if rd.reply != nil {
			rd.reply(err)
		}
	}
}

// retryDeferred handles again the failures that waited for a round.
func (s *Supervisor) retryDeferred() {
	evs := s.deferred
	s.deferred = nil
	for _, ev := range evs {
		s.handleFailure(ev)
	}
}

// handleFailure counts a child's failure in its own intensity window and
// starts the restart the strategy says, after that child's backoff.
func (s *Supervisor) handleFailure(ev supEvent) {
	if s.down {
		return // our parent will resume every child
	}
	kids := s.snapshot()
	i := slices.Index(kids, ev.child)
	if i < 0 || ev.child.nodeIncarnation() != ev.inc {
		return // gone, or already restarted by an earlier round
	}
	cs := ev.child.supervision()
	if cs.gaveUp {
		return
	}
	affected := s.affected(kids, i)
	for _, n := range affected {
		if n.supervision().round != nil {
			// A restart in progress holds it: decide once that one is
			// done, as if the events had been handled in turn.
			s.deferred = append(s.deferred, ev)
			return
		}
	}
	now := s.sys.cfg.now()
	cs.restarts = slices.DeleteFunc(cs.restarts, func(t time.Time) bool {
		return now.Sub(t) >= s.props.Within
	})
	cs.restarts = append(cs.restarts, now)
	if len(cs.restarts) > s.props.MaxRestarts {
		s.escalate(ev, kids)
		return
	}
	delay := s.props.Backoff.Delay(len(cs.restarts)-1, s.sys.cfg.jitter())
	s.begin(&round{
		members: affected,
		stops:   stopOrder(affected, ev.child), // the failed child is already down
		delay:   delay,
		starts:  affected,
		finish:  func() { s.restarted(ev, affected, delay) },
	})
}

func (s *Supervisor) affected(kids []node, i int) []node {
	switch s.props.Strategy {
	case AllForOne:
		return kids
	case RestForOne:
		return kids[i:]
	default:
		return kids[i : i+1]
	}
}

// stopOrder returns nodes last started first, without skip.
func stopOrder(nodes []node, skip node) []node {
	out := make([]node, 0, len(nodes))
	for i := len(nodes) - 1; i >= 0; i-- {
		if nodes[i] != skip {
			out = append(out, nodes[i])
		}
	}
	return out
}

func (s *Supervisor) restarted(ev supEvent, affected []node, delay time.Duration) {
	names := make([]string, len(affected))
	for j, n := range affected {
		names[j] = n.nodeName()
	}
	s.sys.logger.Warn("actor restarted", "supervisor", s.props.Name,
		"failed", ev.child.nodeName(), "restarted", names, "delay", delay, "err", ev.err)
	s.sys.events.Publish(Restarted{Supervisor: s.props.Name, Failed: ev.child.nodeName(),
		Children: names, Err: ev.err, Delay: delay})
}

// escalate gives up on local restarts of a child that exceeded its
// intensity: the parent restarts this whole supervisor or, at the root,
// the child is stopped for good and the System records the give-up.
func (s *Supervisor) escalate(ev supEvent, kids []node) {
	s.sys.events.Publish(Escalated{Supervisor: s.props.Name, Failed: ev.child.nodeName(), Err: ev.err})
	if s.parent == nil {
		cs := ev.child.supervision()
		cs.gaveUp = true
		reason := fmt.Errorf("%w: %w", ErrTooManyRestarts, ev.err)
		ev.child.stopNode(reason)
		s.sys.recordGiveUp(GaveUp{Name: ev.child.nodeName(), Kind: ev.child.nodeKind(), Err: reason})
		return
	}
	s.sys.logger.Warn("restart intensity exceeded, escalating", "supervisor", s.props.Name,
		"failed", ev.child.nodeName(), "max_restarts", s.props.MaxRestarts,
		"within", s.props.Within, "err", ev.err)
	s.down = true
	s.cancelRounds(nil)
	s.deferred = nil
	err := fmt.Errorf("supervisor %s: %w: %w", s.props.Name, ErrTooManyRestarts, ev.err)
	s.begin(&round{
		members: kids,
		stops:   stopOrder(kids, ev.child),
		finish:  func() { s.parent.childFailed(s, s.incarnation.Load(), err) },
	})
}

// suspendAll carries out the parent's suspend: every child's instance is
// stopped, last started first, then the parent is answered.
func (s *Supervisor) suspendAll(reply func(error)) {
	s.down = true
	s.cancelRounds(nil)
	s.deferred = nil
	kids := s.snapshot()
	s.begin(&round{members: kids, stops: stopOrder(kids, nil), reply: reply})
}

// resumeAll carries out the parent's restart of this supervisor: every
// child starts afresh, in start order, with a fresh intensity window.
func (s *Supervisor) resumeAll(reply func(error)) {
	s.cancelRounds(nil)
	s.deferred = nil
	s.down = false
	s.incarnation.Add(1)
	kids := s.snapshot()
	for _, n := range kids {
		n.supervision().restarts = nil
	}
	s.begin(&round{members: kids, starts: kids, reply: reply})
}
