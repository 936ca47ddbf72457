package quota

import (
	"testing"
	"time"
)

var t0 = time.Unix(1_700_000_000, 0)

func at(d time.Duration) time.Time { return t0.Add(d) }

func TestSpend(t *testing.T) {
	type step struct {
		at   time.Duration
		n    int
		want Result
		left int32
	}
	tests := []struct {
		name  string
		limit Limit
		steps []step
	}{
		{"lobby drains then refills", Lobby, []step{
			{0, 300, Allowed, 300},
			{time.Second, 300, Allowed, 0},
			{time.Second, 1, Dropped, 0},
			{2 * time.Second, 200, Allowed, 0},  // one refill of 200
			{6 * time.Second, 0, Allowed, 400},  // two refills
			{60 * time.Second, 0, Allowed, 600}, // capped at max
		}},
		{"room", Room, []step{{0, 1200, Allowed, 0}, {0, 1, Dropped, 0}}},
		{"owner", Owner, []step{{0, 1800, Allowed, 0}, {2 * time.Second, 600, Allowed, 0}}},
		{"too big a batch is dropped whole", Lobby, []step{{0, 601, Dropped, 600}}},
		{"admin unlimited", Unlimited, []step{{0, 1_000_000, Allowed, -1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := New(tt.limit, 2*time.Second, t0)
			for i, s := range tt.steps {
				if got := q.Spend(s.n, at(s.at)); got != s.want {
					t.Fatalf("step %d: Spend(%d) = %v, want %v", i, s.n, got, s.want)
				}
				if left, _ := q.Allowance(at(s.at)); left != s.left {
					t.Fatalf("step %d: allowance %d, want %d", i, left, s.left)
				}
			}
		})
	}
}

func TestFlood(t *testing.T) {
	t.Run("over quota in consecutive intervals", func(t *testing.T) {
		q := New(Lobby, 2*time.Second, t0)
		q.Spend(600, t0)
		var got Result
		for i := range 3 {
			// Each interval: more than the refill is asked for.
			got = q.Spend(1000, at(time.Duration(i)*2*time.Second+time.Millisecond))
		}
		if got != Flood {
			t.Fatalf("third interval over quota = %v, want Flood", got)
		}
	})
	t.Run("backing off resets the streak", func(t *testing.T) {
		q := New(Lobby, 2*time.Second, t0)
		q.Spend(600, t0)
		q.Spend(1, t0)                       // strike 1
		q.Spend(1, at(4*time.Second))        // idle interval in between
		q.Spend(q.points, at(4*time.Second)) // drain
		if got := q.Spend(1, at(4*time.Second)); got != Dropped {
			t.Fatalf("got %v, want Dropped", got)
		}
	})
	t.Run("burst", func(t *testing.T) {
		q := New(Lobby, 2*time.Second, t0)
		var got Result
		for range 9 { // 2700 > 4*600 events in one interval
			got = q.Spend(300, t0)
		}
		if got != Flood {
			t.Fatalf("got %v, want Flood", got)
		}
	})
	t.Run("set limit refills", func(t *testing.T) {
		q := New(Lobby, 2*time.Second, t0)
		q.Spend(600, t0)
		q.SetLimit(Owner, t0)
		if left, maximum := q.Allowance(t0); left != 1800 || maximum != 1800 {
			t.Fatalf("allowance %d/%d", left, maximum)
		}
	})
}
