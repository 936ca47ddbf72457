package actor

import (
	"reflect"
	"sync"
	"sync/atomic"
	"time"
)

// DeadLetter is published for every message that will not be handled.
type DeadLetter struct {
	Target  string // the actor's name
	Message any
	Reason  string // ReasonStopped, ReasonDropped, ReasonPoison or ReasonExpired
	Err     error  // ErrStopped, ErrMailboxFull, the *PanicError or the asker's ctx.Err()
}

// Terminated is received (through Receive) by a watcher when the watched
// actor stops. Reason is nil for a normal stop.
type Terminated struct {
	Ref    *Ref
	Reason error
}

// Restarted is published after a supervisor restarted children.
type Restarted struct {
	Supervisor string
	Failed     string   // the child whose failure caused the restart
	Children   []string // restarted children, in start order
	Err        error    // the failure
	Delay      time.Duration
}

// Escalated is published when a child exceeds its supervisor's restart
// intensity: the supervisor hands the failure to its parent (or, at the
// root, gives up on the child: then GaveUp follows).
type Escalated struct {
	Supervisor string
	Failed     string
	Err        error
}

// GaveUp is published once for every child the root supervisor gives up on
// (stops for good) after it exceeded its restart intensity: an actor, or a
// nested supervisor that kept escalating. From then on System.Err reports
// it.
type GaveUp struct {
	Name string // the child's name
	Kind string // its Props.Kind, or "supervisor"
	Err  error  // ErrTooManyRestarts wrapping the last failure
}

// EventStream is an in-process publish/subscribe bus whose topics are Go
// types. It is safe for concurrent use. Subscribers run synchronously in
// the publisher's goroutine, in subscription order, and must not block.
type EventStream struct {
	mu   sync.Mutex
	subs atomic.Pointer[subscribers] // copy on write: Publish takes no lock
	next uint64
}

type subscribers struct {
	byType map[reflect.Type][]subscriber // concrete topic types
	ifaces []subscriber                  // interface topics, matched by assertion
}

type subscriber struct {
	id uint64
	fn func(any)
}

// NewEventStream returns an empty stream.
func NewEventStream() *EventStream {
	es := &EventStream{}
	es.subs.Store(&subscribers{byType: map[reflect.Type][]subscriber{}})
	return es
}

// Publish hands v to every subscriber of its type (and of the interfaces
// it implements).
func (es *EventStream) Publish(v any) {
	subs := es.subs.Load()
	if v == nil {
		return
	}
	for _, s := range subs.byType[reflect.TypeOf(v)] {
		s.fn(v)
	}
	for _, s := range subs.ifaces {
		s.fn(v)
	}
}

// Subscribe calls fn with every published value of type T, until the
// returned function is called. T may be an interface type (any receives
// everything).
func Subscribe[T any](es *EventStream, fn func(T)) (unsubscribe func()) {
	t := reflect.TypeFor[T]()
	iface := t.Kind() == reflect.Interface
	call := func(v any) { fn(v.(T)) }
	if iface {
		call = func(v any) {
			if tv, ok := v.(T); ok {
				fn(tv)
			}
		}
	}
	es.mu.Lock()
	es.next++
	id := es.next
	es.update(func(s *subscribers) {
		if iface {
			s.ifaces = append(s.ifaces, subscriber{id, call})
		} else {
			s.byType[t] = append(s.byType[t], subscriber{id, call})
		}
	})
	es.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			es.mu.Lock()
			defer es.mu.Unlock()
			es.update(func(s *subscribers) {
				if iface {
					s.ifaces = without(s.ifaces, id)
				} else if l := without(s.byType[t], id); len(l) > 0 {
					s.byType[t] = l
				} else {
					delete(s.byType, t)
				}
			})
		})
	}
}

// update applies change to a copy of the subscriber table; es.mu is held.
func (es *EventStream) update(change func(*subscribers)) {
	old := es.subs.Load()
	cp := &subscribers{byType: make(map[reflect.Type][]subscriber, len(old.byType)), ifaces: old.ifaces}
	for k, v := range old.byType {
		cp.byType[k] = v
	}
	change(cp)
	es.subs.Store(cp)
}

// without returns a new slice, so a Publish iterating the old one is safe.
func without(l []subscriber, id uint64) []subscriber {
	out := make([]subscriber, 0, len(l))
	for _, s := range l {
		if s.id != id {
			out = append(out, s)
		}
	}
	return out
}
