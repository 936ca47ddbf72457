package errtrack

import (
	"sort"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

// rateMinutes is how many minutes of counts each service keeps; recent is
// the window of ServiceErrorRate.recent_per_minute.
const (
	rateMinutes = 60
	recent      = 5
)

// rate counts one service's reports per minute of arrival, in a ring of
// rateMinutes buckets.
type rate struct {
	counts [rateMinutes]int64
	minute int64 // the minute (unix minutes) of the newest bucket
	total  int64
}

func (s *groups) rate(service string) *rate {
	r := s.rates[service]
	if r == nil {
		r = &rate{}
		s.rates[service] = r
	}
	return r
}

// advance moves the ring to the minute of now, emptying the buckets of the
// minutes that passed. A clock that went back counts in the newest bucket.
func (r *rate) advance(now time.Time) {
	m := now.Unix() / 60
	switch {
	case r.minute == 0:
		r.minute = m
		return
	case m <= r.minute:
		return
	case m-r.minute >= rateMinutes:
		r.counts = [rateMinutes]int64{}
	default:
		for i := r.minute + 1; i <= m; i++ {
			r.counts[i%rateMinutes] = 0
		}
	}
	r.minute = m
}

func (r *rate) add(now time.Time) {
	r.advance(now)
	r.counts[r.minute%rateMinutes]++
	r.total++
}

// perMinute is the counts of the last rateMinutes minutes, oldest first.
func (r *rate) perMinute() []int64 {
	out := make([]int64, rateMinutes)
	for i := range rateMinutes {
		out[i] = r.counts[(r.minute-rateMinutes+1+int64(i)+rateMinutes)%rateMinutes]
	}
	return out
}

func (s *groups) rateList(service string) []*pb.ServiceErrorRate {
	now := s.cfg.Now()
	var out []*pb.ServiceErrorRate
	for name, r := range s.rates {
		if service != "" && name != service {
			continue
		}
		r.advance(now)
		pm := r.perMinute()
		var last int64
		for _, n := range pm[rateMinutes-recent:] {
			last += n
		}
		out = append(out, &pb.ServiceErrorRate{
			Service: name, Start: timestamppb.New(time.Unix((r.minute-rateMinutes+1)*60, 0).UTC()),
			PerMinute: pm, RecentPerMinute: float64(last) / recent, Total: r.total,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetService() < out[j].GetService() })
	return out
}
