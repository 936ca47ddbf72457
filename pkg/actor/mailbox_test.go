package actor

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestMailboxRing(t *testing.T) {
	m := newMailbox(3)
	next, want := 0, 0
	for round := range 10 { // wraps the ring several times
		for m.len() < 3 {
			require.True(t, m.push(next), "round %d", round)
			next++
		}
		require.False(t, m.push(-1), "full at 3")
		require.Equal(t, 3, m.len())
		for range 1 + round%3 {
			v, ok := m.pop()
			require.True(t, ok)
			require.Equal(t, want, v)
			want++
		}
	}
	for {
		v, ok := m.pop()
		if !ok {
			break
		}
		require.Equal(t, want, v)
		want++
	}
	require.Equal(t, next, want)
	require.True(t, m.empty())
	require.Zero(t, m.len())
	var none *mailbox
	_, ok := none.pop()
	require.False(t, ok)
	require.Zero(t, none.len())
}

// TestBlockedSendersAllDelivered: many senders parked on a one-slot
// mailbox all get through, in order per sender; the room the actor makes
// must reach every parked sender, not only the first.
func TestBlockedSendersAllDelivered(t *testing.T) {
	const senders, perSender = 8, 300
	sys := newTestSystem(t, Config{})
	entered, gate := make(chan struct{}, 1), make(chan struct{})
	ref, err := sys.Spawn(Props{MailboxSize: 1, New: func() Actor {
		last := map[int]int{}
		var bad []string
		n := 0
		return funcActor(func(c *Context) {
			switch m := c.Message().(type) {
			case seqMsg:
				if prev, ok := last[m.sender]; ok && m.seq != prev+1 {
					bad = append(bad, fmt.Sprintf("sender %d: %d after %d", m.sender, m.seq, prev))
				}
				last[m.sender] = m.seq
				if n++; n%7 == 0 {
					runtime.Gosched() // let senders queue up again
				}
			case string:
				if m == "block" {
					entered <- struct{}{}
					<-gate
					return
				}
				c.Respond(fmt.Sprint(n, bad))
			}
		})
	}})
	require.NoError(t, err)
	ctx := testCtx(t)
	require.NoError(t, ref.Tell(ctx, "block"))
	recv(t, entered)
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			for i := range perSender {
				if err := ref.Tell(ctx, seqMsg{s, i}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	// One message fills the mailbox; every sender then parks.
	require.Eventually(t, func() bool { return ref.user.blocked.Load() == senders }, 5*time.Second, time.Millisecond)
	close(gate)
	wg.Wait()
	got, err := Ask[string](ctx, ref, "report")
	require.NoError(t, err)
	require.Equal(t, fmt.Sprint(senders*perSender, []string(nil)), got)
}

// TestStopRacingBlockedSenders: when an actor stops while senders wait on
// its full mailbox, every message is accounted for exactly once: handled,
// or a "stopped" dead letter, or refused with an error to its sender.
func TestStopRacingBlockedSenders(t *testing.T) {
	const senders, perSender = 6, 200
	sys := newTestSystem(t, Config{})
	var dead atomic.Int64
	t.Cleanup(Subscribe(sys.Events(), func(d DeadLetter) {
		if d.Reason == ReasonStopped {
			dead.Add(1)
		}
	}))
	var handled atomic.Int64
	ref, err := sys.Spawn(Props{MailboxSize: 2, New: func() Actor {
		return funcActor(func(c *Context) {
			if handled.Add(1)%5 == 0 {
				runtime.Gosched()
			}
		})
	}})
	require.NoError(t, err)
	ctx := testCtx(t)
	var accepted, stoppedErr atomic.Int64
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			for i := range perSender {
				err := ref.Tell(ctx, seqMsg{s, i})
				switch {
				case err == nil:
					accepted.Add(1)
				case errors.Is(err, ErrStopped):
					stoppedErr.Add(1)
				default:
					t.Error(err)
				}
			}
		})
	}
	for handled.Load() < senders*perSender/4 {
		runtime.Gosched()
	}
	require.NoError(t, ref.Stop(ctx))
	wg.Wait()
	require.Equal(t, int64(senders*perSender), accepted.Load()+stoppedErr.Load())
	// A refused message is published as a dead letter too.
	require.Equal(t, accepted.Load()+stoppedErr.Load(), handled.Load()+dead.Load())
	require.Zero(t, ref.user.len())
}

// TestMailboxSegmentsConcurrent: senders and the reader cross segment
// boundaries concurrently (run with -race); every item arrives once, in
// order per sender.
func TestMailboxSegmentsConcurrent(t *testing.T) {
	const senders, perSender = 4, 5000
	m := newMailbox(3*segmentSlots + 5)
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			for i := 0; i < perSender; {
				if m.push(seqMsg{s, i}) {
					i++
				} else {
					runtime.Gosched()
				}
			}
		})
	}
	last := make([]int, senders)
	for i := range last {
		last[i] = -1
	}
	for got := 0; got < senders*perSender; {
		v, ok := m.pop()
		if !ok {
			runtime.Gosched()
			continue
		}
		sm := v.(seqMsg)
		require.Equal(t, last[sm.sender]+1, sm.seq, "sender %d", sm.sender)
		last[sm.sender] = sm.seq
		got++
	}
	wg.Wait()
	require.True(t, m.empty())
}

// TestMailboxHoldsMemoryForWhatIsQueued: a big idle mailbox is one
// segment, and the segments a lane leaves are reused.
func TestMailboxHoldsMemoryForWhatIsQueued(t *testing.T) {
	m := newMailbox(1000)
	require.Same(t, m.hseg, m.tseg)
	require.Nil(t, m.hseg.next.Load())
	var item any = &struct{}{}
	cycle := func() {
		for range segmentSlots + 3 {
			m.push(item)
		}
		for range segmentSlots + 3 {
			m.pop()
		}
	}
	for range 4 {
		cycle()
	}
	require.Zero(t, testing.AllocsPerRun(100, cycle))
}
