package actor

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// logCapture keeps the records logged at ERROR.
type logCapture struct {
	mu     sync.Mutex
	errors []string
}

func (h *logCapture) Enabled(context.Context, slog.Level) bool { return true }
func (h *logCapture) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		h.mu.Lock()
		h.errors = append(h.errors, r.Message)
		h.mu.Unlock()
	}
	return nil
}
func (h *logCapture) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logCapture) WithGroup(string) slog.Handler      { return h }

func (h *logCapture) errorLines() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.errors...)
}

// TestRootGiveUpIsLoud: a root child that exhausts its restarts is given
// up on once: one GaveUp event, one OnGiveUp call, one ERROR line, and
// from then on Err and Check report it.
func TestRootGiveUpIsLoud(t *testing.T) {
	logs := &logCapture{}
	hooked := make(chan GaveUp, 4)
	sys := newTestSystem(t, instant(Config{Logger: slog.New(logs), OnGiveUp: func(g GaveUp) { hooked <- g }}))
	gaveUp := events[GaveUp](t, sys)
	ctx := testCtx(t)
	healthy, err := sys.Spawn(echoProps())
	require.NoError(t, err)
	require.NoError(t, sys.Err())
	require.NoError(t, sys.Check(ctx, healthy))

	var starts atomic.Int32
	writer, err := sys.Spawn(Props{Kind: "archive", Name: "writer", New: func() Actor { return startFails{&starts} }})
	require.NoError(t, err)
	<-writer.Done()

	g := recv(t, gaveUp)
	require.Equal(t, "writer", g.Name)
	require.Equal(t, "archive", g.Kind)
	require.ErrorIs(t, g.Err, ErrTooManyRestarts)
	require.ErrorIs(t, g.Err, errStart)
	require.Equal(t, g, recv(t, hooked))
	require.Equal(t, int32(6), starts.Load(), "first start and 5 restarts")

	err = sys.Err()
	require.ErrorIs(t, err, ErrTooManyRestarts)
	require.ErrorIs(t, err, errStart)
	require.ErrorContains(t, err, `gave up on archive "writer"`)
	require.ErrorIs(t, sys.Check(ctx, healthy), ErrTooManyRestarts, "Check fails once the root gave up")
	require.NoError(t, healthy.Ping(ctx), "the other children are still served")

	require.NoError(t, sys.Shutdown(ctx)) // nothing is pending any more
	require.Empty(t, gaveUp, "published once")
	require.Empty(t, hooked, "hook called once")
	require.Equal(t, []string{"actor: root supervisor gave up on a child"}, logs.errorLines(), "logged once")
	require.Error(t, sys.Err(), "remembered")
}

// TestNestedSupervisorGivenUpAtRoot: a nested supervisor that keeps
// escalating is restarted by the root within the root's intensity, then
// given up on; GaveUp names the supervisor.
func TestNestedSupervisorGivenUpAtRoot(t *testing.T) {
	sys := newTestSystem(t, instant(Config{}))
	gaveUp := events[GaveUp](t, sys)
	var starts atomic.Int32
	rooms, err := sys.SpawnSupervisor(SupervisorProps{Name: "rooms", MaxRestarts: 1,
		Children: []Props{{Name: "lobby", New: func() Actor { return startFails{&starts} }}}})
	require.NoError(t, err)
	<-rooms.done
	// The child may be between restarts at any moment before: look at the
	// children only once the supervisor is done.
	for _, child := range rooms.Children() {
		<-child.Done()
	}
	g := recv(t, gaveUp)
	require.Equal(t, "rooms", g.Name)
	require.Equal(t, "supervisor", g.Kind)
	require.ErrorIs(t, g.Err, ErrTooManyRestarts)
	require.ErrorIs(t, g.Err, errStart)
	// rooms: first start and one restart per round; the root restarted
	// rooms 5 times before giving up: 6 rounds of 2 starts.
	require.Equal(t, int32(12), starts.Load())
	require.ErrorContains(t, sys.Err(), `gave up on supervisor "rooms"`)
	require.Empty(t, gaveUp)
}

func TestCheck(t *testing.T) {
	sys := newTestSystem(t, Config{})
	ctx := testCtx(t)
	var refs []*Ref
	for range 3 {
		r, err := sys.Spawn(echoProps())
		require.NoError(t, err)
		refs = append(refs, r)
	}
	require.NoError(t, sys.Check(ctx, refs...), "a healthy system")
	require.NoError(t, sys.Check(ctx), "nothing to ask")

	var rec recorder
	entered, gate := make(chan struct{}, 1), make(chan struct{})
	stuck, err := sys.Spawn(Props{Name: "stuck", New: gated(&rec, entered, gate)})
	require.NoError(t, err)
	require.NoError(t, stuck.Tell(ctx, "block"))
	recv(t, entered)
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	err = sys.Check(short, append(refs, stuck)...)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorContains(t, err, "stuck did not answer")
	for _, r := range refs {
		require.NotContains(t, err.Error(), r.Name()+" ")
	}
	close(gate)
	require.NoError(t, sys.Check(ctx, stuck), "answers again once out of its long Receive")

	require.NoError(t, refs[0].Stop(ctx))
	err = sys.Check(ctx, refs...)
	require.ErrorIs(t, err, ErrStopped)
	require.ErrorContains(t, err, refs[0].Name())
	require.Error(t, sys.Check(ctx, nil))
	require.NoError(t, sys.Err(), "Check does not change Err")
}
