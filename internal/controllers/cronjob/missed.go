package cronjob

import (
	"time"

	"github.com/tugcluster/tug/internal/cron"
)

// maxMissed is the number of missed start times beyond which the
// controller reports that something (a long outage, clock skew, no
// startingDeadlineSeconds) needs the user's attention. It still starts
// the most recent one.
const maxMissed = 100

// missedTimes returns the most recent time in (earliest, now] at which the
// schedule fired, zero if none, and how many such times there are. Past
// maxMissed the count is an estimate from the first two intervals, which
// is exact for schedules with a fixed period.
func missedTimes(s *cron.Schedule, earliest, now time.Time) (time.Time, int) {
	first := s.Next(earliest)
	if first.IsZero() || first.After(now) {
		return time.Time{}, 0
	}
	last, count := first, 1
	for t := s.Next(first); !t.IsZero() && !t.After(now); t = s.Next(t) {
		if count == maxMissed {
			return latestBefore(s, last, now), estimate(s, first, now)
		}
		last = t
		count++
	}
	return last, count
}

// estimate counts the schedule's times in [first, now] as if its first
// interval repeated.
func estimate(s *cron.Schedule, first, now time.Time) int {
	period := s.Next(first).Sub(first)
	if period <= 0 {
		return maxMissed + 1
	}
	return max(int(now.Sub(first)/period)+1, maxMissed+1)
}

// latestBefore finds the last time at or before now at which the schedule
// fires, knowing it fires at from (<= now): it searches windows before now
// of growing size rather than walking every time since from.
func latestBefore(s *cron.Schedule, from, now time.Time) time.Time {
	for _, window := range []time.Duration{time.Hour, 24 * time.Hour, 32 * 24 * time.Hour, 367 * 24 * time.Hour} {
		start := now.Add(-window)
		if start.Before(from) {
			break
		}
		if last := lastIn(s, start, now); !last.IsZero() {
			return last
		}
	}
	return lastIn(s, from, now)
}

// lastIn walks the schedule's times in (start, now] and returns the last
// one, or from itself when start is a firing time and nothing follows.
func lastIn(s *cron.Schedule, start, now time.Time) time.Time {
	var last time.Time
	if t := s.Next(start.Add(-time.Minute)); t.Equal(start) {
		last = start
	}
	for t := s.Next(start); !t.IsZero() && !t.After(now); t = s.Next(t) {
		last = t
	}
	return last
}
