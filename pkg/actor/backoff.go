package actor

import "time"

// Backoff spaces restarts: the n-th restart within a supervisor's intensity
// window waits Min·2^n, capped at Max, spread by ±Jitter so that actors
// failing together do not restart together.
type Backoff struct {
	Min    time.Duration // zero value means 10ms
	Max    time.Duration // zero value means 5s
	Jitter float64       // fraction of the delay; zero value means 0.2, negative means none
}

func (b Backoff) withDefaults() Backoff {
	if b.Min <= 0 {
		b.Min = 10 * time.Millisecond
	}
	if b.Max <= 0 {
		b.Max = 5 * time.Second
	}
	if b.Max < b.Min {
		b.Max = b.Min
	}
	switch {
	case b.Jitter == 0:
		b.Jitter = 0.2
	case b.Jitter < 0:
		b.Jitter = 0
	case b.Jitter > 1:
		b.Jitter = 1
	}
	return b
}

// Delay returns the wait before restart number attempt (0 for the first),
// with r in [0, 1) choosing where in the jitter range it falls. It is a pure
// function so that tests need no clock.
func (b Backoff) Delay(attempt int, r float64) time.Duration {
	b = b.withDefaults()
	d := b.Min
	for i := 0; i < attempt && d < b.Max; i++ {
		d *= 2 // doubling until the cap cannot overflow: Max is a Duration
	}
	d = min(d, b.Max)
	d = time.Duration(float64(d) * (1 + b.Jitter*(2*r-1)))
	return max(0, min(d, b.Max))
}
