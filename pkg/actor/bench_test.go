package actor

import (
	"context"
	"sync"
	"testing"
)

// payload boxes into an interface without allocating, like most real
// messages (pointers); the benchmarks measure the kernel, not boxing.
var payload any = &struct{ n int }{}

type sink struct{ n int }

func (s *sink) Receive(c *Context) {
	s.n++
	c.Respond(payload)
}

func benchSystem(b *testing.B) (*System, *Ref) {
	sys := NewSystem(Config{})
	b.Cleanup(func() { _ = sys.Shutdown(context.Background()) })
	ref, err := sys.Spawn(Props{New: func() Actor { return &sink{} }})
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
func BenchmarkAsk(b *testing.B) {
	_, ref := benchSystem(b)
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
