package actor

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

type keyed struct {
	key string
	seq int
}

func TestHashPoolKeepsPerKeyOrder(t *testing.T) {
	const keys, perKey = 20, 300
	sys := newTestSystem(t, Config{})
	var mu sync.Mutex
	seen := map[string][]int{}
	members := map[string]map[string]bool{}
	pool, err := NewHashPool(sys, Props{Kind: "shard", MailboxSize: 8, New: func() Actor {
		return funcActor(func(c *Context) {
			m, ok := c.Message().(keyed)
			if !ok {
				c.Respond(nil)
				return
			}
			mu.Lock()
			seen[m.key] = append(seen[m.key], m.seq)
			if members[m.key] == nil {
				members[m.key] = map[string]bool{}
			}
			members[m.key][c.Self().Name()] = true
			mu.Unlock()
		})
	}}, 4, func(msg any) string { return msg.(keyed).key })
	require.NoError(t, err)
	require.Len(t, pool.Refs(), 4)
	require.Equal(t, "shard-0", pool.Refs()[0].Name())
	ctx := testCtx(t)
	var wg sync.WaitGroup
	for k := range keys {
		wg.Go(func() {
			key := fmt.Sprintf("room-%d", k)
			for i := range perKey {
				if err := pool.Tell(ctx, keyed{key, i}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, r := range pool.Refs() {
		_, err := r.Ask(ctx, "sync")
		require.NoError(t, err)
	}
	used := map[string]bool{}
	for k := range keys {
		key := fmt.Sprintf("room-%d", k)
		require.Len(t, seen[key], perKey)
		for i, s := range seen[key] {
			require.Equal(t, i, s, "key %s out of order", key)
		}
		require.Len(t, members[key], 1, "key %s handled by one member", key)
		for m := range members[key] {
			used[m] = true
		}
		require.Equal(t, pool.Route(keyed{key: key}), pool.Route(keyed{key: key}))
	}
	require.Greater(t, len(used), 1, "keys spread over members")
	require.NoError(t, pool.Stop(ctx))
}

func TestRoundRobinPool(t *testing.T) {
	sys := newTestSystem(t, Config{})
	pool, err := NewRoundRobinPool(sys, Props{Name: "rr", New: func() Actor {
		return funcActor(func(c *Context) { c.Respond(c.Self().Name()) })
	}}, 3)
	require.NoError(t, err)
	count := map[string]int{}
	for range 9 {
		v, err := pool.Ask(testCtx(t), "who")
		require.NoError(t, err)
		count[v.(string)]++
	}
	require.Equal(t, map[string]int{"rr-0": 3, "rr-1": 3, "rr-2": 3}, count)

	_, err = NewRoundRobinPool(sys, Props{}, 2)
	require.Error(t, err, "props without New")
	_, err = NewHashPool(sys, echoProps(), 2, nil)
	require.Error(t, err)
}

func TestJumpHashIsStable(t *testing.T) {
	// Growing the pool moves only keys that land on the new member.
	moved := 0
	for i := range 1000 {
		h := fnv1a(fmt.Sprint("key-", i))
		a, b := jumpHash(h, 8), jumpHash(h, 9)
		require.Less(t, a, 8)
		if a != b {
			require.Equal(t, 8, b)
			moved++
		}
	}
	require.InDelta(t, 1000/9, moved, 40)
}
