package actor_test

import (
	"context"
	"fmt"
	"time"

	"github.com/pianorhythm/server/pkg/actor"
)

// counter keeps a count per room; its state would be reloaded from storage
// in Started after a restart.
type counter struct{ n int }

type (
	incr  struct{ Room string }
	get   struct{ Room string }
	crash struct{}
)

// Idempotent says that handling crash twice does no harm, so the kernel may
// retry it after a restart; messages without it are handled at most once.
func (crash) Idempotent() bool { return true }

func (c *counter) Started(ctx *actor.Context) error {
	fmt.Println("started", ctx.Self().Name())
	return nil
}

func (c *counter) Receive(ctx *actor.Context) {
	switch ctx.Message().(type) {
	case incr:
		c.n++
	case get:
		ctx.Respond(c.n)
	case crash:
		if ctx.Attempt() == 0 {
			panic("lost the connection to the store")
		}
	}
}

func Example() {
	ctx := context.Background()
	sys := actor.NewSystem(actor.Config{})
	defer sys.Shutdown(ctx)

	// A supervised actor: restarted after a panic, mailbox kept.
	sup, _ := sys.SpawnSupervisor(actor.SupervisorProps{
		Name:     "rooms",
		Strategy: actor.OneForOne,
		Backoff:  actor.Backoff{Min: time.Millisecond},
	})
	ref, _ := sup.Spawn(actor.Props{Kind: "room", Name: "lobby", New: func() actor.Actor { return &counter{} }})
	_ = ref.Tell(ctx, incr{})
	_ = ref.Tell(ctx, crash{}) // panics once; Idempotent, so retried after the restart
	_ = ref.Tell(ctx, incr{})

	// Ask with a timeout.
	askCtx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	n, err := actor.Ask[int](askCtx, ref, get{})
	// 1, not 2: the first count died with the crashed instance's memory.
	// A real actor keeps such state in storage and reloads it in Started.
	fmt.Println("count after restart:", n, err)

	// A consistent-hash pool: every message for one room goes to one member.
	pool, _ := actor.NewHashPool(sys, actor.Props{Kind: "shard", New: func() actor.Actor { return &counter{} }}, 4,
		func(msg any) string {
			switch m := msg.(type) {
			case incr:
				return m.Room
			case get:
				return m.Room
			}
			return ""
		})
	for range 3 {
		_ = pool.Tell(ctx, incr{Room: "jazz"})
	}
	n, err = actor.Ask[int](askCtx, pool.Route(get{Room: "jazz"}), get{Room: "jazz"})
	fmt.Println("jazz:", n, err)

	// Readiness: nil while everything is supervised and the key actors
	// answer their health ping in time.
	fmt.Println("ready:", sys.Check(askCtx, ref))

	// Unordered output:
	// started lobby
	// started lobby
	// count after restart: 1 <nil>
	// started shard-0
	// started shard-1
	// started shard-2
	// started shard-3
	// jazz: 3 <nil>
	// ready: <nil>
}
