// Package actor is the in-process actor kernel every PianoRhythm service is
// built on: one goroutine per actor, private state, a bounded mailbox.
//
// An actor is any type with a Receive(*Context) method. It is started by a
// System (or a Supervisor) from a Props value whose New factory builds a
// fresh instance at start and after every restart:
//
//	sys := actor.NewSystem(actor.Config{Meter: meter, Logger: log})
//	defer sys.Shutdown(ctx)
//	ref, err := sys.Spawn(actor.Props{Kind: "room", New: newRoom})
//	err = ref.Tell(ctx, join)                       // fire and forget
//	n, err := actor.Ask[int](ctx, ref, countQuery{}) // request/response
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
// A lane is a preallocated ring: senders serialize among themselves on a
// mutex, the actor reads without a lock and sleeps on a wake channel only
// when every lane is empty. A Tell with a bare context travels as the
// message itself; otherwise in a pooled envelope. Tell does not allocate and
// costs about as much as a buffered channel send. Ask uses a
// pooled reply slot, not a goroutine; a reply that arrives after the asker's
// deadline is dropped. A router actor may Context.Forward a message to
// another actor, whose Respond then answers the original asker.
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
// jittered, capped backoff. The restarted instance comes from Props.New and
// reloads its state in Started. The mailbox is kept across the restart, and
// the message that failed is retried first; after Props.MaxRetries retries it
// is published as a poison DeadLetter and the actor goes on with the next
// message. A supervisor that restarts more than MaxRestarts times Within a
// period gives up and escalates to its own parent; the root supervisor of a
// System gives up by stopping the failing child for good.
//
// # Observability
//
// Each System records, per Props.Kind, the mailbox depth, processing time,
// messages handled, restarts and dead letters as OpenTelemetry instruments.
// Dead letters, restarts and escalations are also published on the System's
// EventStream, where any code can Subscribe to them by Go type.
//
// # Goroutines
//
// A System owns every goroutine it starts (one per actor, one per
// supervisor); Shutdown stops them all and waits. EventStream subscribers
// run synchronously in the publisher's goroutine and must not block.
package actor
