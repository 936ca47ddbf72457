package clock

import (
	"testing"
	"time"
)

func TestFake(t *testing.T) {
	t0 := time.Unix(1000, 0)
	f := NewFake(t0)
	var fired []string
	f.AfterFunc(2*time.Second, func() { fired = append(fired, "b") })
	f.AfterFunc(time.Second, func() { fired = append(fired, "a") })
	stopped := f.AfterFunc(time.Second, func() { fired = append(fired, "never") })
	if !stopped.Stop() || stopped.Stop() {
		t.Fatal("Stop must succeed once")
	}
	f.Advance(999 * time.Millisecond)
	if len(fired) != 0 {
		t.Fatalf("fired early: %v", fired)
	}
	f.Advance(2 * time.Second)
	if got := f.Now(); !got.Equal(t0.Add(2999 * time.Millisecond)) {
		t.Fatalf("Now = %v", got)
	}
	if len(fired) != 2 || fired[0] != "a" || fired[1] != "b" || f.Pending() != 0 {
		t.Fatalf("fired %v, pending %d", fired, f.Pending())
	}
}
