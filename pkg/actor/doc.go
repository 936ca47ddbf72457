// Package actor is the in-process actor kernel every PianoRhythm service is
// built on: one goroutine per actor, private state, a bounded mailbox.
//
// An actor is any type with a Receive(*Context) method. It is started by a
// System (or a Supervisor) from a Props value whose New factory builds a
// fresh instance at start and after every restart:
//
//	sys := actor.NewSystem(actor.Config{Meter: meter, Logger: log, OnGiveUp: report})
//	defer sys.Shutdown(ctx)
//	ref, err := sys.Spawn(actor.Props{Kind: "room", New: newRoom})
//	err = ref.Tell(ctx, join)                       // fire and forget
//	n, err := actor.Ask[int](ctx, ref, countQuery{}) // request/response
//
// # Where actors belong
//
// An actor owns state that lives in memory: a room, a room's fan-out, a
// connection's session, a batch being written. Its mailbox is what lets that
// state go without locks. Code that owns nothing and only forwards to a
// store (Redis, MongoDB, another service) is ordinary concurrent code: it
// gets no mailbox, because a mailbox there only adds a hop and a queue in
// which one slow request holds up the others, and its "restart" restores
// nothing. And no supervisor gives up in silence: see Failures.
//
// # Mailboxes
//
// Each actor reads three lanes, in this order: the system lane (stop,
// restart, health ping, Terminated notices; never bounded, never dropped),
// the optional priority lane (Props.PriorityLane, TellPriority) and the user
// lane. User and priority lanes hold Props.MailboxSize messages; when full the
// Props.Overflow policy applies: Block waits until the sender's context ends,
// FailFast returns ErrMailboxFull, DropNewest drops the message, counts it and
// publishes a DeadLetter. Messages from one sender are received in the order
// they were sent.
//
// Two sends never wait, whatever the target's policy, because their sender
// serves many actors and must not stall behind one: Ref.TryTell, for a
// dispatcher feeding many actors from one goroutine, and Context.Forward,
// for a router. Both return ErrMailboxFull at once when the lane is full;
// the message is then still the caller's (a router answers the Ask with the
// error, which a service turns into RESOURCE_EXHAUSTED or UNAVAILABLE).
//
// A lane is a preallocated ring: senders serialize among themselves on a
// mutex, the actor reads without a lock and sleeps on a wake channel only
// when every lane is empty. A Tell with a bare context travels as the
// message itself; otherwise (a context with values, a trace span) in a
// pooled envelope. Tell does not allocate in either case and costs about as
// much as a buffered channel send. Ask uses a pooled reply slot, not a
// goroutine; a reply that arrives after the asker's deadline is dropped. A
// router actor may Context.Forward a message to another actor, whose
// Respond then answers the original asker.
//
// # Contexts
//
// An Ask carries its asker's context all the way: if that context ends
// before the actor takes the message, the message is never handled; it is
// dropped, counted and published as a DeadLetter with ReasonExpired, and
// Ask returns the context's error. Once taken, Context.Context is the
// asker's context itself (values, deadline, cancellation), so the handler
// sees a caller that gave up and calls it makes carry the caller's
// deadline. Work that must outlive the reply uses
// context.WithoutCancel(c.Context()).
//
// A Tell is fire-and-forget: the sender does not wait, so its context's
// cancellation is not carried. A Tell told with a request's context is
// handled even after that request has returned; the handler sees the
// context's values (trace span, request ids) without its cancellation.
//
// # Pools
//
// NewHashPool routes by consistent hash of a key, so messages with one key
// are handled in order by one member (KeyIndex gives that member's index);
// NewRoundRobinPool spreads messages evenly.
//
// # Failures
//
// A panic in Receive (or an error from Started) is caught. The actor's
// supervisor then restarts it (OneForOne), all its siblings (AllForOne) or it
// and the siblings started after it (RestForOne), after an exponential,
// jittered, capped backoff. The backoff is a timer, not a wait: the
// supervisor suspends what the strategy says, schedules the resume and goes
// on serving its other children meanwhile, so one crashing room never
// delays the restart of another, and a Started that is slow to load does
// not hold up its siblings. Each child has its own restart intensity
// (SupervisorProps.MaxRestarts Within a period) and its own backoff, so a
// crash storm of one child does not use up its siblings' budget. The
// restarted instance comes from Props.New and reloads its state in Started;
// the mailbox is kept across the restart.
//
// The message that failed is retried first, but only if it is Idempotent
// (up to Props.MaxRetries times): re-running a handler repeats the side
// effects it had done before the panic (a rate-limit hit, a chat message
// saved again). Any other message becomes a poison DeadLetter after its
// first failure, and an asker gets the *PanicError. A batch is retried only
// if all of its messages are Idempotent.
//
// A child that exceeds its intensity makes its supervisor escalate: the
// supervisor stops its children and reports the failure to its own parent,
// which restarts the whole supervisor. The root supervisor of a System gives
// up instead: it stops that child for good and the System makes it loud,
// once: a GaveUp event on the EventStream, one log line at ERROR, a call to
// Config.OnGiveUp (services report it to the error tracker), and
// System.Err, non-nil from then on, from which a service turns its gRPC
// health and readiness NOT_SERVING. System.Check is the readiness check: it
// returns System.Err, or pings the given key actors through their system
// lane and names those that did not answer before ctx's deadline.
//
// # Observability
//
// Each System records, per Props.Kind, the mailbox depth, processing time,
// messages handled, restarts and dead letters (by reason) as OpenTelemetry
// instruments. Dead letters, restarts, escalations and give-ups are also
// published on the System's EventStream, where any code can Subscribe to
// them by Go type.
//
// # Goroutines
//
// A System owns every goroutine it starts (one per actor, one per
// supervisor); Shutdown stops them all, cancels pending restart timers and
// waits. An actor spawned with Props.ReleaseWhenIdle has its goroutine only
// while it has messages: the sender that finds it idle starts the next, so
// thousands of mostly idle actors (one per connection) hold no stacks. It
// is still one goroutine at a time, so the actor's state needs no lock.
// EventStream subscribers and the Config hooks run synchronously in the
// publisher's goroutine and must not block.
package actor
