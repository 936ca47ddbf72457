package quota

import "time"

// Limit is how many points refill each interval and the most a connection
// may hold. The zero Limit allows nothing; Unlimited allows everything.
type Limit struct {
	Refill int
	Max    int
	// None disables the quota (admins).
	None bool
}

// The limits of the client protocol (DESIGN section 4).
var (
	Lobby     = Limit{Refill: 200, Max: 600}
	Room      = Limit{Refill: 400, Max: 1200}
	Owner     = Limit{Refill: 600, Max: 1800}
	Unlimited = Limit{None: true}
)

// Result is the verdict on one batch.
type Result uint8

const (
	// Allowed: the events may be played.
	Allowed Result = iota
	// Dropped: over quota; drop the events and tell the client.
	Dropped
	// Flood: the client keeps flooding; close it with 4002.
	Flood
)

// Flood detection: a client is flooding when it was over quota in
// floodIntervals consecutive refill intervals, or tried to send more than
// burstFactor times its maximum within one interval. An honest client that
// hits the quota gets a noteQuota and backs off within an interval.
const (
	floodIntervals = 3
	burstFactor    = 4
)

// Quota is one connection's note quota.
type Quota struct {
	limit    Limit
	interval time.Duration
	points   int
	next     time.Time // next refill

	attempted int  // events tried in the current interval
	dropped   bool // something was dropped in the current interval
	strikes   int  // consecutive intervals with drops
}

// New returns a full quota with limit l refilling every interval (zero
// means 2s), starting at now.
func New(l Limit, interval time.Duration, now time.Time) *Quota {
	if interval <= 0 {
		interval = 2 * time.Second
	}
	q := &Quota{interval: interval}
	q.SetLimit(l, now)
	return q
}

// SetLimit changes the limit (joining a room, becoming owner) and fills the
// points to its maximum.
func (q *Quota) SetLimit(l Limit, now time.Time) {
	q.limit = l
	q.points = l.Max
	q.next = now.Add(q.interval)
	q.attempted, q.dropped, q.strikes = 0, false, 0
}

// Limit is the current limit.
func (q *Quota) Limit() Limit { return q.limit }

// Spend charges n events at now.
func (q *Quota) Spend(n int, now time.Time) Result {
	if q.limit.None {
		return Allowed
	}
	q.refill(now)
	q.attempted += n
	if q.attempted > burstFactor*max(q.limit.Max, 1) {
		return Flood
	}
	if n <= q.points {
		q.points -= n
		return Allowed
	}
	if !q.dropped {
		q.dropped = true
		q.strikes++
		if q.strikes >= floodIntervals {
			return Flood
		}
	}
	return Dropped
}

// Allowance returns the points left and the maximum, for a noteQuota
// message; -1, -1 when unlimited.
func (q *Quota) Allowance(now time.Time) (allowance, maximum int32) {
	if q.limit.None {
		return -1, -1
	}
	q.refill(now)
	return int32(q.points), int32(q.limit.Max)
}

func (q *Quota) refill(now time.Time) {
	if now.Before(q.next) {
		return
	}
	elapsed := int(now.Sub(q.next)/q.interval) + 1
	q.next = q.next.Add(time.Duration(elapsed) * q.interval)
	q.points = min(q.points+elapsed*q.limit.Refill, q.limit.Max)
	// An interval without drops right after this one ends the streak; so
	// does idling for more than one interval.
	if !q.dropped || elapsed > 1 {
		q.strikes = 0
	}
	q.attempted, q.dropped = 0, false
}
