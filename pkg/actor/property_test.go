package actor

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// store is the "database" the property test's actors reload from: it
// outlives every instance, as real storage would.
type store struct {
	mu        sync.Mutex
	processed map[string][]int
	attempts  map[string]int // by "actor/msg"
	startFail []bool         // the n-th start (any actor) fails
	starts    int
}

type propActor struct {
	name  string
	st    *store
	fails map[int]int // message -> how many times its handling panics
	seen  int         // reloaded in Started
}

func (a *propActor) Started(*Context) error {
	a.st.mu.Lock()
	defer a.st.mu.Unlock()
	n := a.st.starts
	a.st.starts++
	if n < len(a.st.startFail) && a.st.startFail[n] {
		return fmt.Errorf("start %d fails", n)
	}
	a.seen = len(a.st.processed[a.name])
	return nil
}

func (a *propActor) Receive(c *Context) {
	var m int
	switch v := c.Message().(type) {
	case int:
		m = v
	case idemInt:
		m = int(v)
	default:
		c.Respond(a.seen)
		return
	}
	a.st.mu.Lock()
	key := fmt.Sprint(a.name, "/", m)
	a.st.attempts[key]++
	crash := a.st.attempts[key] <= a.fails[m]
	if !crash {
		a.st.processed[a.name] = append(a.st.processed[a.name], m)
		a.seen++
	}
	a.st.mu.Unlock()
	if crash {
		panic(key)
	}
}

// TestPropertyNoLossNoDuplicateUnderCrashes: under random panics, Started
// failures and sibling restarts, every accepted message is handled exactly
// once and in order, except poison messages, which reach dead letters. An
// Idempotent message is retried up to MaxRetries; any other message is
// attempted exactly once (a panic makes it poison at once).
func TestPropertyNoLossNoDuplicateUnderCrashes(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		maxRetries := rapid.IntRange(0, 3).Draw(rt, "maxRetries")
		strategy := Strategy(rapid.IntRange(0, 2).Draw(rt, "strategy"))
		n := rapid.IntRange(1, 40).Draw(rt, "messages")
		release := rapid.Bool().Draw(rt, "releaseWhenIdle")
		st := &store{processed: map[string][]int{}, attempts: map[string]int{},
			startFail: rapid.SliceOfN(rapid.Bool(), 0, 8).Draw(rt, "startFail")}
		names := []string{"a", "b"}
		fails := map[string]map[int]int{}
		idempotent := map[string]map[int]bool{}
		poison := map[string][]int{}
		wantAttempts := map[string]int{} // by "actor/msg"
		for _, name := range names {
			fails[name] = map[int]int{}
			idempotent[name] = map[int]bool{}
			for i := range n {
				f := rapid.IntRange(0, maxRetries+1).Draw(rt, fmt.Sprint("fails ", name, i))
				if rapid.IntRange(0, 3).Draw(rt, fmt.Sprint("crash? ", name, i)) > 0 {
					f = 0 // most messages succeed first time
				}
				idem := rapid.Bool().Draw(rt, fmt.Sprint("idempotent? ", name, i))
				fails[name][i], idempotent[name][i] = f, idem
				allowed := 0 // retries allowed
				if idem {
					allowed = maxRetries
				}
				if f > allowed {
					poison[name] = append(poison[name], i)
				}
				wantAttempts[fmt.Sprint(name, "/", i)] = min(f, allowed) + 1
			}
		}

		sys := NewSystem(Config{})
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := sys.Shutdown(ctx); err != nil {
				rt.Fatalf("shutdown: %v", err)
			}
		}()
		var dmu sync.Mutex
		dead := map[string][]int{}
		defer Subscribe(sys.Events(), func(d DeadLetter) {
			m, ok := d.Message.(int)
			if !ok {
				m = int(d.Message.(idemInt))
			}
			dmu.Lock()
			dead[d.Target] = append(dead[d.Target], m)
			dmu.Unlock()
		})()
		var props []Props
		retries := maxRetries
		if retries == 0 {
			retries = -1
		}
		for _, name := range names {
			props = append(props, Props{Name: name, MaxRetries: retries, ReleaseWhenIdle: release, New: func() Actor {
				return &propActor{name: name, st: st, fails: fails[name]}
			}})
		}
		sup, err := sys.SpawnSupervisor(SupervisorProps{Strategy: strategy, MaxRestarts: 1 << 30,
			Backoff: Backoff{Min: time.Microsecond, Max: time.Microsecond}, Children: props})
		if err != nil {
			rt.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		refs := sup.Children()
		for i := range n {
			for _, r := range refs {
				var msg any = i
				if idempotent[r.Name()][i] {
					msg = idemInt(i)
				}
				if err := r.Tell(ctx, msg); err != nil {
					rt.Fatalf("tell: %v", err)
				}
			}
		}
		for _, r := range refs {
			if _, err := r.Ask(ctx, "sync"); err != nil {
				rt.Fatalf("sync %s: %v", r.Name(), err)
			}
		}
		st.mu.Lock()
		defer st.mu.Unlock()
		dmu.Lock()
		defer dmu.Unlock()
		for _, name := range names {
			var want []int
			for i := range n {
				if !slices.Contains(poison[name], i) {
					want = append(want, i)
				}
			}
			if !slices.Equal(want, st.processed[name]) {
				rt.Fatalf("%s processed %v, want %v", name, st.processed[name], want)
			}
			if !slices.Equal(poison[name], dead[name]) {
				rt.Fatalf("%s dead letters %v, want %v", name, dead[name], poison[name])
			}
			for i := range n {
				key := fmt.Sprint(name, "/", i)
				if st.attempts[key] != wantAttempts[key] {
					rt.Fatalf("%s handled %d times, want %d (fails %d, idempotent %v)",
						key, st.attempts[key], wantAttempts[key], fails[name][i], idempotent[name][i])
				}
			}
		}
	})
}
