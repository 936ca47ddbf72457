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
	// MaxRestarts is the restart intensity, counted per child: when one
	// child fails more than MaxRestarts times Within the period, the
	// supervisor escalates to its parent (the root gives up on that child:
	// see System.Err). Each child has its own window, so a crash storm of
	// one child does not use up the budget of its siblings. Zero value
	// means 5.
	MaxRestarts int
	// Within is the intensity period; zero value means 10s.
	Within time.Duration
	// Backoff spaces the restarts of each child: its n-th restart within
	// its window waits Backoff.Delay(n-1), on a timer, while the supervisor
	// goes on serving its other children.
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

// node is a supervised child: an actor or a nested supervisor. Suspend and
// resume are requests: reply is called once when done (or at once with
// ErrStopped when the child has stopped) and must not block.
type node interface {
	nodeName() string
	nodeKind() string
	nodeIncarnation() uint64
	suspendNode(reply func(error))
	resumeNode(reply func(error))
	stopNode(reason error)
	doneCh() <-chan struct{}
	supervision() *childState
}

var (
	_ node = (*Ref)(nil)
	_ node = (*Supervisor)(nil)
)

func (r *Ref) nodeName() string                     { return r.name }
func (r *Ref) nodeKind() string                     { return r.props.Kind }
func (r *Ref) nodeIncarnation() uint64              { return r.incarnation.Load() }
func (r *Ref) suspendNode(reply func(error))        { r.postSystem(sysMsg{kind: sysSuspend, reply: reply}) }
func (r *Ref) resumeNode(reply func(error))         { r.postSystem(sysMsg{kind: sysResume, reply: reply}) }
func (r *Ref) stopNode(reason error)                { r.postSystem(sysMsg{kind: sysStop, err: reason}) }
func (r *Ref) doneCh() <-chan struct{}              { return r.done }
func (r *Ref) supervision() *childState             { return &r.supState }
func (s *Supervisor) nodeName() string              { return s.props.Name }
func (s *Supervisor) nodeKind() string              { return "supervisor" }
func (s *Supervisor) nodeIncarnation() uint64       { return s.incarnation.Load() }
func (s *Supervisor) suspendNode(reply func(error)) { s.post(supEvent{kind: evSuspend, reply: reply}) }
func (s *Supervisor) resumeNode(reply func(error))  { s.post(supEvent{kind: evResume, reply: reply}) }
func (s *Supervisor) stopNode(reason error)         { s.terminate(reason) }
func (s *Supervisor) doneCh() <-chan struct{}       { return s.done }
func (s *Supervisor) supervision() *childState      { return &s.supState }

// childState is what a supervisor keeps about one child. It lives in the
// child (no table to clean up when the child goes) but only the parent
// supervisor's goroutine touches it.
type childState struct {
	restarts []time.Time // this child's restarts within the intensity window
	round    *round      // the restart in progress that holds the child
	gaveUp   bool        // the root stopped it for good
}

// Supervisor owns child actors and supervisors and restarts them when they
// fail. It runs one goroutine, owned by its System, that never waits on a
// child: backoffs are timers and every step of a restart is an event, so
// while one child waits out its backoff (or runs a slow Started) the
// supervisor goes on restarting the others. Its methods are safe for
// concurrent use.
type Supervisor struct {
	sys         *System
	parent      *Supervisor // nil for the root
	props       SupervisorProps
	incarnation atomic.Uint64
	supState    childState // as a child of parent

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
	rounds    map[uint64]*round // restarts in progress
	lastRound uint64
	deferred  []supEvent // failures whose children are held by a round
	// down: suspended by the parent, or escalated to it; the parent's
	// resume restarts every child, so failures meanwhile are not handled.
	down bool
}

type evKind uint8

const (
	evFailed  evKind = iota // a child failed
	evStep                  // a step of a round is done (a child's reply or a backoff timer)
	evSuspend               // parent: stop all children's instances
	evResume                // parent: restart all children
)

type supEvent struct {
	kind  evKind
	child node   // evFailed
	inc   uint64 // evFailed: the child's incarnation that failed
	err   error  // evFailed
	round uint64 // evStep
	step  int    // evStep
	reply func(error)
}

func newSupervisor(sys *System, parent *Supervisor, sp SupervisorProps) *Supervisor {
	return &Supervisor{
		sys:    sys,
		parent: parent,
		props:  sp.withDefaults(sys.seq.Add(1)),
		inSig:  make(chan struct{}, 1),
		quit:   make(chan struct{}),
		done:   make(chan struct{}),
		rounds: make(map[uint64]*round),
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
		_ = r.Ping(context.Background())
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

// post queues an event; never blocks, so children and timers can always
// report.
func (s *Supervisor) post(ev supEvent) {
	s.inMu.Lock()
	if s.inClosed {
		s.inMu.Unlock()
		if ev.reply != nil {
			ev.reply(ErrStopped)
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
// No case waits: each starts or advances a round and returns.
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
		case evStep:
			s.stepDone(ev)
		case evSuspend:
			s.suspendAll(ev.reply)
		case evResume:
			s.resumeAll(ev.reply)
		}
	}
	s.shutdown()
}

// shutdown cancels pending restarts (and their timers), stops children,
// last started first, and waits for each.
func (s *Supervisor) shutdown() {
	s.cancelRounds(ErrStopped)
	s.deferred = nil
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
		if ev.reply != nil {
			ev.reply(ErrStopped)
		}
	}
	if s.parent != nil {
		s.parent.remove(s)
	}
	close(s.done)
}
