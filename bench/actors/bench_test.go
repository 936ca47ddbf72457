package actors

import (
	"context"
	"log/slog"
	"testing"
	"time"

	proto "github.com/asynkron/protoactor-go/actor"
	"github.com/pianorhythm/server/pkg/actor"
)

// Messages are pointers or zero-size values, which box into interfaces
// without allocating, so allocations measured are the kernels' own.
type (
	ping  struct{ from *actor.Ref }
	pong  struct{}
	start struct {
		n    int
		done chan struct{}
	}
	work struct{}
)

// ---- pkg/actor ----

func kernel(b *testing.B) *actor.System {
	sys := actor.NewSystem(actor.Config{})
	b.Cleanup(func() { _ = sys.Shutdown(context.Background()) })
	return sys
}

type funcActor func(c *actor.Context)

func (f funcActor) Receive(c *actor.Context) { f(c) }

func spawn(b *testing.B, sys *actor.System, f func(c *actor.Context)) *actor.Ref {
	ref, err := sys.Spawn(actor.Props{New: func() actor.Actor { return funcActor(f) }})
	if err != nil {
		b.Fatal(err)
	}
	return ref
}

func BenchmarkPingPong_Kernel(b *testing.B) {
	sys := kernel(b)
	ctx := context.Background()
	ponger := spawn(b, sys, func(c *actor.Context) {
		_ = c.Message().(*ping).from.Tell(ctx, pong{})
	})
	var left int
	var done chan struct{}
	var msg *ping
	pinger := spawn(b, sys, func(c *actor.Context) {
		switch m := c.Message().(type) {
		case *start:
			left, done = m.n, m.done
		case pong:
			left--
		}
		if left == 0 {
			close(done)
			return
		}
		_ = ponger.Tell(ctx, msg)
	})
	msg = &ping{from: pinger}
	b.ReportAllocs()
	b.ResetTimer()
	s := &start{n: b.N, done: make(chan struct{})}
	_ = pinger.Tell(ctx, s)
	<-s.done
}

func BenchmarkFanIn_Kernel(b *testing.B) {
	sys := kernel(b)
	ctx := context.Background()
	sink := spawn(b, sys, func(c *actor.Context) { c.Respond(c.Message()) })
	msg := &work{}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_ = sink.Tell(ctx, msg)
		}
	})
	if _, err := sink.Ask(ctx, msg); err != nil { // drained
		b.Fatal(err)
	}
}

func BenchmarkRequestResponse_Kernel(b *testing.B) {
	sys := kernel(b)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	msg := &work{}
	echo := spawn(b, sys, func(c *actor.Context) { c.Respond(c.Message()) })
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := echo.Ask(ctx, msg); err != nil {
			b.Fatal(err)
		}
	}
}

// ---- protoactor-go ----

func protoSystem(b *testing.B) *proto.ActorSystem {
	sys := proto.NewActorSystem(proto.WithLoggerFactory(func(*proto.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	}))
	b.Cleanup(sys.Shutdown)
	return sys
}

func BenchmarkPingPong_Protoactor(b *testing.B) {
	sys := protoSystem(b)
	ponger := sys.Root.Spawn(proto.PropsFromFunc(func(c proto.Context) {
		if _, ok := c.Message().(*ping); ok {
			c.Respond(pong{})
		}
	}))
	var left int
	var done chan struct{}
	msg := &ping{}
	pinger := sys.Root.Spawn(proto.PropsFromFunc(func(c proto.Context) {
		switch m := c.Message().(type) {
		case *start:
			left, done = m.n, m.done
		case pong:
			left--
		default:
			return // lifecycle messages
		}
		if left == 0 {
			close(done)
			return
		}
		c.Request(ponger, msg)
	}))
	b.ReportAllocs()
	b.ResetTimer()
	s := &start{n: b.N, done: make(chan struct{})}
	sys.Root.Send(pinger, s)
	<-s.done
}

func BenchmarkFanIn_Protoactor(b *testing.B) {
	sys := protoSystem(b)
	sink := sys.Root.Spawn(proto.PropsFromFunc(func(c proto.Context) {
		if m, ok := c.Message().(*work); ok && c.Sender() != nil {
			c.Respond(m)
		}
	}))
	msg := &work{}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			sys.Root.Send(sink, msg)
		}
	})
	if _, err := sys.Root.RequestFuture(sink, msg, time.Minute).Result(); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkRequestResponse_Protoactor(b *testing.B) {
	sys := protoSystem(b)
	msg := &work{}
	echo := sys.Root.Spawn(proto.PropsFromFunc(func(c proto.Context) {
		if m, ok := c.Message().(*work); ok {
			c.Respond(m)
		}
	}))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := sys.Root.RequestFuture(echo, msg, time.Minute).Result(); err != nil {
			b.Fatal(err)
		}
	}
}
