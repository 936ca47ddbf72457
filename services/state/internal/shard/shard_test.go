package shard

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/pkg/store/storetest"
	"github.com/pianorhythm/server/services/state/internal/archive"
	"github.com/pianorhythm/server/services/state/internal/engine"
	"github.com/pianorhythm/server/services/state/internal/live"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(storetest.Wrap(m))
}

type fixture struct {
	sys *actor.System
	eng *engine.Engine
	m   *Manager

	mu      sync.Mutex
	started map[int]int
}

func newFixture(t *testing.T, shards int) *fixture {
	t.Helper()
	ctx := context.Background()
	arch := archive.New(storetest.Mongo(t))
	require.NoError(t, arch.EnsureIndexes(ctx))
	// A persistent room that Redis does not have (as after a flush).
	require.NoError(t, arch.SaveRoom(ctx, &pb.Room{Id: "kept", Persistent: true}, time.Now()))

	f := &fixture{sys: actor.NewSystem(actor.Config{}), started: map[int]int{}}
	writer, err := f.sys.Spawn(actor.Props{Kind: "state-archive", New: archive.NewWriter(archive.WriterConfig{Archive: arch}), BatchSize: 16})
	require.NoError(t, err)
	f.eng = &engine.Engine{Live: live.New(storetest.Redis(t), storetest.Prefix(t), 100), Archive: arch, Writer: writer, ChatKeep: 100}
	f.m, err = New(f.sys, f.eng, Config{Shards: shards, OnStarted: func(i, _ int) {
		f.mu.Lock()
		f.started[i]++
		f.mu.Unlock()
	}})
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, f.sys.Shutdown(ctx))
	})
	// Every shard has run Started once it has answered a job.
	for _, ref := range f.m.Refs() {
		_, err := ref.Ask(ctx, job{run: func(context.Context) (any, error) { return nil, nil }})
		require.NoError(t, err)
	}
	return f
}

func (f *fixture) starts() map[int]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[int]int{}
	for k, v := range f.started {
		out[k] = v
	}
	return out
}

// TestShardPanicRestartsOnlyThatShard: a panic in one shard restarts it
// (Started reloads its persistent rooms), the failed request is retried
// and succeeds, and the other shards are neither restarted nor blocked.
func TestShardPanicRestartsOnlyThatShard(t *testing.T) {
	f := newFixture(t, 4)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// Started restored the archived room into Redis.
	_, err := f.eng.Live.GetRoom(ctx, "kept")
	require.NoError(t, err)
	require.Equal(t, map[int]int{0: 1, 1: 1, 2: 1, 3: 1}, f.starts())

	key := RoomKey("kept")
	k := f.m.Shard(key)
	restarted := make(chan actor.Restarted, 4)
	unsub := actor.Subscribe(f.sys.Events(), func(e actor.Restarted) { restarted <- e })
	defer unsub()

	// Lose the room again, then crash its shard once.
	_, err = f.eng.Live.DeleteRoom(ctx, "kept")
	require.NoError(t, err)
	var calls atomic.Int32
	got, err := Do(ctx, f.m, key, func(ctx context.Context) (string, error) {
		if calls.Add(1) == 1 {
			panic("boom")
		}
		return "ok", nil
	})
	require.NoError(t, err)
	require.Equal(t, "ok", got, "the failed request is retried after the restart")

	ev := <-restarted
	require.Equal(t, []string{fmt.Sprintf("state-shard-%d", k)}, ev.Children)
	want := map[int]int{0: 1, 1: 1, 2: 1, 3: 1}
	want[k] = 2
	require.Equal(t, want, f.starts())
	_, err = f.eng.Live.GetRoom(ctx, "kept")
	require.NoError(t, err, "the restarted shard reloaded its rooms")

	for i, ref := range f.m.Refs() {
		_, err := ref.Ask(ctx, job{run: func(context.Context) (any, error) { return i, nil }})
		require.NoError(t, err)
	}
}

// TestPoisonRequest: a request that always panics fails with a
// PanicError after the retries and does not take the shard down.
func TestPoisonRequest(t *testing.T) {
	f := newFixture(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := Do(ctx, f.m, "room:x", func(context.Context) (int, error) { panic("always") })
	var pe *actor.PanicError
	require.True(t, errors.As(err, &pe), "err = %v", err)
	n, err := Do(ctx, f.m, "room:x", func(context.Context) (int, error) { return 7, nil })
	require.NoError(t, err)
	require.Equal(t, 7, n)
}

func TestRouteIsStableAndSpread(t *testing.T) {
	m := &Manager{cfg: Config{Shards: 8}}
	hits := make([]int, 8)
	for i := range 8000 {
		key := RoomKey(fmt.Sprint("room-", i))
		s := m.route(key)
		require.Equal(t, s, m.route(key))
		hits[s]++
	}
	for i, n := range hits {
		require.InDelta(t, 1000, n, 200, "shard %d", i)
	}
}
