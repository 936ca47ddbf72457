package sendq

import (
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestPushDrainBoundedByBytes(t *testing.T) {
	q := New(10, time.Hour, nil)
	tests := []struct {
		frame string
		ok    bool
	}{
		{"abcd", true}, {"efgh", true}, {"ijk", false}, {"ij", true}, {"", true}, {"x", false},
	}
	for _, tt := range tests {
		if got := q.Push([]byte(tt.frame)); got != tt.ok {
			t.Fatalf("Push(%q) = %v, want %v", tt.frame, got, tt.ok)
		}
	}
	select {
	case <-q.Ready():
	default:
		t.Fatal("not signalled")
	}
	got := q.Drain(nil)
	if len(got) != 4 || string(got[0]) != "abcd" || string(got[2]) != "ij" || q.Bytes() != 0 {
		t.Fatalf("drained %q, %d bytes left", got, q.Bytes())
	}
	if !q.Push([]byte("0123456789")) {
		t.Fatal("room after drain")
	}
	q.Close()
	if q.Push([]byte("a")) {
		t.Fatal("push after close")
	}
}

func TestDrainReusesSpare(t *testing.T) {
	q := New(1<<20, time.Hour, nil)
	var batch [][]byte
	frame := []byte("note")
	for range 3 {
		q.Push(frame)
		batch = q.Drain(batch)
	}
	allocs := testing.AllocsPerRun(100, func() {
		q.Push(frame)
		q.Push(frame)
		batch = q.Drain(batch)
	})
	if allocs != 0 {
		t.Fatalf("steady push/drain allocates %v per run", allocs)
	}
}

func TestSlowWhenFullAndNotDrained(t *testing.T) {
	tests := []struct {
		name     string
		drain    bool
		wantSlow bool
	}{
		{"stays full", false, true},
		{"drained in time", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				mu   sync.Mutex
				slow bool
			)
			const after = 50 * time.Millisecond
			q := New(4, after, func() { mu.Lock(); slow = true; mu.Unlock() })
			defer q.Close()
			q.Push([]byte("full"))
			if q.Push([]byte("more")) {
				t.Fatal("push into a full queue")
			}
			if tt.drain {
				q.Drain(nil)
			}
			time.Sleep(3 * after) // the timer under test is real time
			mu.Lock()
			defer mu.Unlock()
			if slow != tt.wantSlow {
				t.Fatalf("slow = %v, want %v", slow, tt.wantSlow)
			}
		})
	}
}

func TestConcurrentProducers(t *testing.T) {
	q := New(1<<20, time.Hour, nil)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				q.Push([]byte("x"))
			}
		})
	}
	total := 0
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var batch [][]byte
	for {
		select {
		case <-q.Ready():
			batch = q.Drain(batch)
			total += len(batch)
			continue
		case <-done:
		}
		break
	}
	total += len(q.Drain(nil))
	if total != 8000 {
		t.Fatalf("drained %d frames, want 8000", total)
	}
}
