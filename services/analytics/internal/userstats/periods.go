package userstats

import (
	"fmt"
	"time"
)

// Period is a leaderboard's time span. Scores are dated by the service
// clock when their batch is applied; a day is a UTC day, a week an ISO
// week (Monday to Sunday, UTC).
type Period string

const (
	Day     Period = "day"
	Week    Period = "week"
	AllTime Period = "all"
)

// Periods are every period a score counts in.
var Periods = []Period{Day, Week, AllTime}

// ParsePeriod reads a request's period; empty means all time.
func ParsePeriod(s string) (Period, bool) {
	switch Period(s) {
	case "", AllTime:
		return AllTime, true
	case Day, Week:
		return Period(s), true
	}
	return "", false
}

// Key names the day or week t falls in ("2026-11-25", "2026-W48"); "all"
// for all time.
func (p Period) Key(t time.Time) string {
	t = t.UTC()
	switch p {
	case Day:
		return t.Format(time.DateOnly)
	case Week:
		y, w := t.ISOWeek()
		return fmt.Sprintf("%04d-W%02d", y, w)
	}
	return "all"
}

// End is when the period holding t ends; zero for all time.
func (p Period) End(t time.Time) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch p {
	case Day:
		return day.AddDate(0, 0, 1)
	case Week:
		// Days until next Monday: Monday is 1, Sunday 0.
		return day.AddDate(0, 0, 7-(int(t.Weekday())+6)%7)
	}
	return time.Time{}
}

// cacheTTL is how long a period's Redis cache is kept after its last
// write: past its end, nobody asks for it.
func (p Period) cacheTTL() time.Duration {
	switch p {
	case Day:
		return 48 * time.Hour
	case Week:
		return 9 * 24 * time.Hour
	}
	return 0
}
