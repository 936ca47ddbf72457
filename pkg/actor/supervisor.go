package actor

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Strategy says which children a supervisor restarts when one fails.
type Strategy int

const (
	// OneForOne restarts only the failed child.
	OneForOne Strategy = iota
	// AllForOne stops all children (last started first) and restarts them
	// all in start order.
	AllForOne
	// RestForOne restarts the failed child and the children started after
	// it, in start order.
	RestForOne
)

// SupervisorProps describes a supervisor.
type SupervisorProps struct {
	// Name identifies the supervisor in logs and events; zero value means
	// "supervisor-N".
	Name     string
	Strategy Strategy
	// MaxRestarts is the restart intensity: more restarts than this Within
	// the period and the supervisor escalates. Zero value means 5.
	MaxRestarts int
	// Within is the intensity period; zero value means 10s.
	Within  time.Duration
	Backoff Backoff
	// Children are started in order when the supervisor starts.
	Children []Props
}

func (sp SupervisorProps) withDefaults(seq uint64) SupervisorProps {
	if sp.Name == "" {
		sp.Name = fmt.Sprintf("supervisor-%d", seq)
	}
	if sp.MaxRestarts == 0 {
		sp.MaxRestarts = 5
	}
	if sp.Within <= 0 {
		sp.Within = 10 * time.Second
	}
	sp.Backoff = sp.Backoff.withDefaults()
	return sp
}

// node is a supervised child: an actor or a nested supervisor.
type node interface {
	nodeName() string
	nodeIncarnation() uint64
	suspendNode(ack chan error)
	resumeNode(ack chan error)
	stopNode(reason error)
	doneCh() <-chan struct{}
}

var (
	_ node = (*Ref)(nil)
	_ node = (*Supervisor)(nil)
)

func (r *Ref) nodeName() string               { return r.name }
func (r *Ref) nodeIncarnation() uint64        { return r.incarnation.Load() }
func (r *Ref) suspendNode(ack chan error)     { r.postSystem(sysMsg{kind: sysSuspend, ack: ack}) }
func (r *Ref) resumeNode(ack chan error)      { r.postSystem(sysMsg{kind: sysResume, ack: ack}) }
func (r *Ref) stopNode(reason error)          { r.postSystem(sysMsg{kind: sysStop, err: reason}) }
func (r *Ref) doneCh() <-chan struct{}        { return r.done }
func (s *Supervisor) nodeName() string        { return s.props.Name }
func (s *Supervisor) nodeIncarnation() uint64 { return s.incarnation.Load() }
func (s *Supervisor) suspendNode(ack chan error) {
	s.post(supEvent{kind: evSuspend, ack: ack})
}
func (s *Supervisor) resumeNode(ack chan error) { s.post(supEvent{kind: evResume, ack: ack}) }
func (s *Supervisor) stopNode(reason error)     { s.terminate(reason) }
func (s *Supervisor) doneCh() <-chan struct{}   { return s.done }

// Supervisor owns child actors and supervisors and restarts them when they
// fail. It runs one goroutine, owned by its System; its methods are safe for
// concurrent use.
type Supervisor struct {
	sys         *System
	parent      *Supervisor // nil for the root
	props       SupervisorProps
	incarnation atomic.Uint64

	mu       sync.Mutex
	children []node // in start order
	closed   bool

	inMu     sync.Mutex
	inbox    []supEvent
	inClosed bool
	inSig    chan struct{}
	quit     chan struct{}
	quitOnce sync.Once
	done     chan struct{}

	// owned by the supervisor goroutine
	restarts  []time.Time // within the intensity window
	escalated bool        // waiting for the parent to resume us
}

type evKind uint8

const (
	evFailed  evKind = iota // a child failed
	evSuspend               // parent: stop all children's instances
	evResume                // parent: restart all children
)

type supEvent struct {
	kind  evKind
	child node
	inc   uint64
	err   error
	ack   chan error
}

func newSupervisor(sys *System, parent *Supervisor, sp SupervisorProps) *Supervisor {
	return &Supervisor{
		sys:    sys,
		parent: parent,
		props:  sp.withDefaults(sys.seq.Add(1)),
		inSig:  make(chan struct{}, 1),
		quit:   make(chan struct{}),
		done:   make(chan struct{}),
	}
}

// Name returns the supervisor's name.
func (s *Supervisor) Name() string { return s.props.Name }

// Spawn starts an actor as the supervisor's last child and returns at once.
func (s *Supervisor) Spawn(p Props) (*Ref, error) {
	r, err := s.sys.newRef(s, p)
	if err != nil {
		return nil, err
	}
	if !s.adopt(r) {
		s.sys.unregister(r)
		return nil, ErrStopped
	}
	go r.run()
	return r, nil
}

// SpawnSupervisor starts a nested supervisor as the last child, then its
// Children one after another: each one's first Started returns before the
// next is spawned. When it exceeds its restart intensity it escalates to s.
func (s *Supervisor) SpawnSupervisor(sp SupervisorProps) (*Supervisor, error) {
	for _, p := range sp.Children {
		if err := p.Validate(); err != nil {
			return nil, err
		}
	}
	c := newSupervisor(s.sys, s, sp)
	if !s.adopt(c) {
		return nil, ErrStopped
	}
	go c.run()
	for _, p := range sp.Children {
		r, err := c.Spawn(p)
		if err != nil {
			return nil, err
		}
		// Static children start one after another, as in OTP, so that a
		// child may rely on the ones before it (what RestForOne assumes).
		// A ping is answered only after the first Started has returned.
		ack := make(chan error, 1)
		r.postSystem(sysMsg{kind: sysPing, ack: ack})
		<-ack
	}
	return c, nil
}

// adopt records a new child and counts its goroutine, under the lock that
// shutdown takes, so nothing is added once the supervisor is closing.
func (s *Supervisor) adopt(n node) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.children = append(s.children, n)
	s.sys.wg.Add(1)
	return true
}

// Children returns the supervisor's actor children in start order.
func (s *Supervisor) Children() []*Ref {
	s.mu.Lock()
	defer s.mu.Unlock()
	refs := make([]*Ref, 0, len(s.children))
	for _, n := range s.children {
		if r, ok := n.(*Ref); ok {
			refs = append(refs, r)
		}
	}
	return refs
}

// Stop stops the supervisor and its children (last started first) and
// waits until they are stopped or ctx is done.
func (s *Supervisor) Stop(ctx context.Context) error {
	s.terminate(nil)
	return waitDone(ctx, s.done)
}

func (s *Supervisor) snapshot() []node {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.children)
}

func (s *Supervisor) remove(n node) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := slices.Index(s.children, n); i >= 0 {
		s.children = slices.Delete(s.children, i, i+1)
	}
}

// childFailed is called by a child (from its own goroutine) that crashed.
func (s *Supervisor) childFailed(n node, inc uint64, err error) {
	s.post(supEvent{kind: evFailed, child: n, inc: inc, err: err})
}

// childStopped is called by an actor child that stopped for good.
func (s *Supervisor) childStopped(r *Ref) { s.remove(r) }

// post queues an event; never blocks, so children can always report.
func (s *Supervisor) post(ev supEvent) {
	s.inMu.Lock()
	if s.inClosed {
		s.inMu.Unlock()
		if ev.ack != nil {
			ev.ack <- ErrStopped
		}
		return
	}
	s.inbox = append(s.inbox, ev)
	s.inMu.Unlock()
	select {
	case s.inSig <- struct{}{}:
	default:
	}
}

func (s *Supervisor) terminate(reason error) {
	_ = reason // children of a stopping supervisor stop normally
	s.quitOnce.Do(func() { close(s.quit) })
}

func (s *Supervisor) next() (supEvent, bool) {
	for {
		select {
		case <-s.quit:
			return supEvent{}, false
		default:
		}
		s.inMu.Lock()
		if len(s.inbox) > 0 {
			ev := s.inbox[0]
			s.inbox[0] = supEvent{}
			s.inbox = s.inbox[1:]
			s.inMu.Unlock()
			return ev, true
		}
		s.inMu.Unlock()
		select {
		case <-s.inSig:
		case <-s.quit:
			return supEvent{}, false
		}
	}
}

// run is the supervisor's goroutine: one loop over a closed set of events.
func (s *Supervisor) run() {
	defer s.sys.wg.Done()
	for {
		ev, ok := s.next()
		if !ok {
			break
		}
		switch ev.kind {
		case evFailed:
			s.handleFailure(ev)
		case evSuspend:
			s.suspendAll(s.snapshot(), nil)
		case evResume:
			s.restarts, s.escalated = s.restarts[:0], false
			s.incarnation.Add(1)
			for _, n := range s.snapshot() {
				s.call(n.resumeNode)
			}
		}
		if ev.ack != nil {
			ev.ack <- nil
		}
	}
	s.shutdown()
}

// shutdown stops children, last started first, and waits for each.
func (s *Supervisor) shutdown() {
	s.mu.Lock()
	s.closed = true
	kids := slices.Clone(s.children)
	s.mu.Unlock()
	for i := len(kids) - 1; i >= 0; i-- {
		kids[i].stopNode(nil)
		<-kids[i].doneCh()
	}
	s.inMu.Lock()
	s.inClosed = true
	evs := s.inbox
	s.inbox = nil
	s.inMu.Unlock()
	for _, ev := range evs {
		if ev.ack != nil {
			ev.ack <- ErrStopped
		}
	}
	if s.parent != nil {
		s.parent.remove(s)
	}
	close(s.done)
}

// call sends a request to a child and waits for its acknowledgement, or
// for this supervisor to be stopped.
func (s *Supervisor) call(send func(ack chan error)) {
	ack := make(chan error, 1)
	send(ack)
	select {
	case <-ack:
	case <-s.quit:
	}
}

// suspendAll stops the instances of nodes, last started first, except skip
// (already down).
func (s *Supervisor) suspendAll(nodes []node, skip node) {
	for i := len(nodes) - 1; i >= 0; i-- {
		if nodes[i] != skip {
			s.call(nodes[i].suspendNode)
		}
	}
}

func (s *Supervisor) handleFailure(ev supEvent) {
	if s.escalated {
		return // our parent will resume every child
	}
	kids := s.snapshot()
	i := slices.Index(kids, ev.child)
	if i < 0 || ev.child.nodeIncarnation() != ev.inc {
		return // gone, or already restarted by an earlier round
	}
	now := s.sys.cfg.now()
	s.restarts = slices.DeleteFunc(s.restarts, func(t time.Time) bool {
		return now.Sub(t) >= s.props.Within
	})
	s.restarts = append(s.restarts, now)
	if len(s.restarts) > s.props.MaxRestarts {
		s.escalate(ev, kids)
		return
	}
	var affected []node
	switch s.props.Strategy {
	case AllForOne:
		affected = kids
	case RestForOne:
		affected = kids[i:]
	default:
		affected = kids[i : i+1]
	}
	s.suspendAll(affected, ev.child)
	delay := s.props.Backoff.Delay(len(s.restarts)-1, s.sys.cfg.jitter())
	t := time.NewTimer(delay)
	select {
	case <-t.C:
	case <-s.quit:
		t.Stop()
		return
	}
	names := make([]string, len(affected))
	for j, n := range affected {
		names[j] = n.nodeName()
		s.call(n.resumeNode)
	}
	s.sys.logger.Warn("actor restarted", "supervisor", s.props.Name,
		"failed", ev.child.nodeName(), "restarted", names, "delay", delay, "err", ev.err)
	s.sys.events.Publish(Restarted{Supervisor: s.props.Name, Failed: ev.child.nodeName(),
		Children: names, Err: ev.err, Delay: delay})
}

// escalate gives up on local restarts: the parent restarts this whole
// supervisor, or, at the root, the failing child is stopped for good.
func (s *Supervisor) escalate(ev supEvent, kids []node) {
	s.sys.logger.Error("restart intensity exceeded", "supervisor", s.props.Name,
		"failed", ev.child.nodeName(), "max_restarts", s.props.MaxRestarts,
		"within", s.props.Within, "err", ev.err)
	s.sys.events.Publish(Escalated{Supervisor: s.props.Name, Failed: ev.child.nodeName(), Err: ev.err})
	if s.parent == nil {
		ev.child.stopNode(fmt.Errorf("%w: %w", ErrTooManyRestarts, ev.err))
		return
	}
	s.suspendAll(kids, ev.child)
	s.escalated = true
	s.parent.childFailed(s, s.incarnation.Load(),
		fmt.Errorf("supervisor %s: %w: %w", s.props.Name, ErrTooManyRestarts, ev.err))
}
