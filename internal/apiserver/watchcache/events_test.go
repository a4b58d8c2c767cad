package watchcache

import (
	"testing"
	"time"
)

// checkLog fails unless l holds events from..to (revisions) in order, with
// the horizon just before from.
func checkLog(t *testing.T, l *eventLog, from, to int64) {
	t.Helper()
	if len(l.events) == 0 || l.events[0].rev != from || l.events[len(l.events)-1].rev != to {
		t.Fatalf("log holds %d events (%v…), want revisions %d to %d", len(l.events), revs(l.events, 3), from, to)
	}
	for i, e := range l.events {
		if e.rev != from+int64(i) {
			t.Fatalf("events[%d].rev = %d, want %d", i, e.rev, from+int64(i))
		}
	}
	if l.horizon != from-1 {
		t.Fatalf("horizon %d, want %d: the last dropped event's", l.horizon, from-1)
	}
}

func revs(events []cachedEvent, n int) []int64 {
	var out []int64
	for _, e := range events[:min(n, len(events))] {
		out = append(out, e.rev)
	}
	return out
}

// TestEventLogKeepsTheNewestMin: with every event stale, the log keeps
// between min and twice min of the newest, cut back in place.
func TestEventLogKeepsTheNewestMin(t *testing.T) {
	l := newEventLog(10, 100, time.Second)
	l.reset(0)
	var at int64
	for i := int64(1); i <= 100; i++ {
		at += int64(time.Hour) // each event stale by the next
		l.add(cachedEvent{rev: i, at: at})
		if n := len(l.events); n < min(int(i), 10) || n > 20 {
			t.Fatalf("after %d events the log holds %d, want between %d and 20", i, n, min(int(i), 10))
		}
		checkLog(t, &l, i-int64(len(l.events))+1, i)
	}
	if c := cap(l.events); c > 40 {
		t.Errorf("the log's array grew to %d entries; it is cut back in place", c)
	}
}

// TestEventLogKeepsFreshEventsUpToMax: events younger than the window stay
// beyond min, up to twice max; older ones go.
func TestEventLogKeepsFreshEventsUpToMax(t *testing.T) {
	l := newEventLog(10, 100, time.Minute)
	l.reset(0)
	start := time.Unix(1767225600, 0).UnixNano()
	for i := int64(1); i <= 150; i++ { // 150 events within a second
		l.add(cachedEvent{rev: i, at: start + i*int64(time.Millisecond)})
	}
	checkLog(t, &l, 1, 150) // all fresh, below max: all kept
	for i := int64(151); i <= 1000; i++ {
		l.add(cachedEvent{rev: i, at: start + i*int64(time.Millisecond)})
		if n := len(l.events); n > 200 {
			t.Fatalf("after %d fresh events the log holds %d, more than twice max", i, n)
		}
		if n := len(l.events); n < 100 {
			t.Fatalf("after %d fresh events the log holds %d, fewer than max", i, n)
		}
	}
	// Two minutes later all but the newest min are stale.
	l.trim(start + int64(2*time.Minute))
	checkLog(t, &l, 991, 1000)
	if c := cap(l.events); c > 40 {
		t.Errorf("after the burst the log's array holds %d entries for 10 events", c)
	}
	// Half a minute after one more event, that event is fresh and the
	// rest stale, but min of them are kept.
	l.add(cachedEvent{rev: 1001, at: start + int64(3*time.Minute)})
	l.trim(start + int64(3*time.Minute+30*time.Second))
	checkLog(t, &l, 992, 1001)
}

// TestEventLogSince: the events after a revision, none for the newest.
func TestEventLogSince(t *testing.T) {
	l := newEventLog(10, 10, time.Minute)
	l.reset(4)
	for i := int64(5); i <= 9; i++ {
		l.add(cachedEvent{rev: i})
	}
	for _, tc := range []struct {
		rev   int64
		first int64
		n     int
	}{{4, 5, 5}, {5, 6, 4}, {8, 9, 1}, {9, 0, 0}} {
		got := l.since(tc.rev)
		if len(got) != tc.n || (tc.n > 0 && got[0].rev != tc.first) {
			t.Errorf("since(%d) = %v, want %d events from %d", tc.rev, revs(got, 10), tc.n, tc.first)
		}
	}
}
