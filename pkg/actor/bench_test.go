package actor

import (
	"context"
	"sync"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// payload boxes into an interface without allocating, like most real
// messages (pointers); the benchmarks measure the kernel, not boxing.
var payload any = &struct{ n int }{}

type sink struct{ n int }

func (s *sink) Receive(c *Context) {
	s.n++
	c.Respond(payload)
}

func benchSystem(b testing.TB) (*System, *Ref) { return benchSystemProps(b, Props{}) }

// benchSystemProps spawns the sink with p's options.
func benchSystemProps(b testing.TB, p Props) (*System, *Ref) {
	sys := NewSystem(Config{})
	b.Cleanup(func() { _ = sys.Shutdown(context.Background()) })
	p.New = func() Actor { return &sink{} }
	ref, err := sys.Spawn(p)
	if err != nil {
		b.Fatal(err)
	}
	return sys, ref
}

// BenchmarkTell: one producer, one actor, until every message is handled.
func BenchmarkTell(b *testing.B) {
	_, ref := benchSystem(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := ref.Tell(ctx, payload); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := ref.Ask(ctx, payload); err != nil { // drained
		b.Fatal(err)
	}
}

type traceKey struct{}

// BenchmarkTellContext is BenchmarkTell with a context that carries a
// value (a request's trace or ids), so the message travels in a pooled
// envelope rather than bare.
func BenchmarkTellContext(b *testing.B) {
	_, ref := benchSystem(b)
	ctx := context.WithValue(context.Background(), traceKey{}, "req-1")
	b.ReportAllocs()
	for b.Loop() {
		if err := ref.Tell(ctx, payload); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := ref.Ask(ctx, payload); err != nil { // drained
		b.Fatal(err)
	}
}

// TestTellWithContextDoesNotAllocate: Tell, and the actor's handling of
// the message, allocate nothing also when a context with values or a live
// trace span is carried (the envelope comes from a pool).
func TestTellWithContextDoesNotAllocate(t *testing.T) {
	tp := sdktrace.NewTracerProvider()
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	spanCtx, span := tp.Tracer("test").Start(context.Background(), "request")
	defer span.End()
	valued, cancel := context.WithCancel(context.WithValue(context.Background(), traceKey{}, "req-1"))
	defer cancel()
	for name, ctx := range map[string]context.Context{
		"background": context.Background(),
		"value":      valued,
		"span":       spanCtx,
	} {
		t.Run(name, func(t *testing.T) {
			sys := newTestSystem(t, Config{})
			handled := make(chan struct{}, 1)
			ref, err := sys.Spawn(Props{New: func() Actor {
				return funcActor(func(*Context) { handled <- struct{}{} })
			}})
			if err != nil {
				t.Fatal(err)
			}
			// One message in flight at a time, so the pool's envelope is
			// back before the next Tell and the mailbox never fills.
			allocs := testing.AllocsPerRun(2000, func() {
				if err := ref.Tell(ctx, payload); err != nil {
					t.Fatal(err)
				}
				<-handled
			})
			if allocs != 0 {
				t.Fatalf("Tell with a %s context: %v allocs per message, want 0", name, allocs)
			}
		})
	}
}

// BenchmarkChannelBaseline is BenchmarkTell over a plain buffered channel
// of the same capacity and a consumer goroutine. Its consumer only counts;
// the actor's sink also calls Respond (a no-op for a Tell), so the pair
// errs, slightly, in the channel's favour.
func BenchmarkChannelBaseline(b *testing.B) {
	ch := make(chan any, 1000)
	var wg sync.WaitGroup
	n := 0
	wg.Go(func() {
		for range ch {
			n++
		}
	})
	b.ReportAllocs()
	for b.Loop() {
		ch <- payload
	}
	close(ch)
	wg.Wait()
}

// BenchmarkTellParallel: GOMAXPROCS producers, one actor.
func BenchmarkTellParallel(b *testing.B) {
	_, ref := benchSystem(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := ref.Tell(ctx, payload); err != nil {
				b.Error(err)
				return
			}
		}
	})
	if _, err := ref.Ask(ctx, payload); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkChannelParallelBaseline is BenchmarkTellParallel over a channel.
func BenchmarkChannelParallelBaseline(b *testing.B) {
	ch := make(chan any, 1000)
	var wg sync.WaitGroup
	wg.Go(func() {
		for range ch {
		}
	})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			ch <- payload
		}
	})
	close(ch)
	wg.Wait()
}

// BenchmarkAsk: sequential request/response round trips.
func BenchmarkAsk(b *testing.B) { benchAsk(b, Props{}) }

// BenchmarkAskReleaseWhenIdle: the same with an actor that gives its
// goroutine back between messages, its worst case (each Ask starts one).
func BenchmarkAskReleaseWhenIdle(b *testing.B) { benchAsk(b, Props{ReleaseWhenIdle: true}) }

func benchAsk(b *testing.B, p Props) {
	_, ref := benchSystemProps(b, p)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ref.Ask(ctx, payload); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChannelAskBaseline is a round trip over a request channel and a
// reply channel.
func BenchmarkChannelAskBaseline(b *testing.B) {
	req, rep := make(chan any, 1000), make(chan any, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		for m := range req {
			rep <- m
		}
	})
	b.ReportAllocs()
	for b.Loop() {
		req <- payload
		<-rep
	}
	close(req)
	wg.Wait()
}
