package watchcache

import (
	"sort"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
)

type cachedEvent struct {
	key  string
	rev  int64
	typ  watch.EventType
	obj  runtime.Object // new state; for DELETED the last state
	prev runtime.Object // nil when created
	at   int64          // when the cache applied it, unix nanoseconds
}

// eventLog holds the cache's recent events, oldest first, for the watches
// that start or resume from a revision. It always keeps the newest min
// events, and beyond those the events younger than fresh, up to max: a
// watcher ended for lagging during a burst of writes comes back within
// seconds from a revision thousands of events old, and if the cache no
// longer held it, the watch would go to storage and be decoded there, all
// its life, once more for every write.
type eventLog struct {
	events []cachedEvent
	// horizon is the revision after which events holds every event: that
	// of the listing the cache started from, or of the last event it
	// dropped. A watch from horizon or later resumes from the cache.
	horizon int64

	min, max int
	fresh    time.Duration
	// trimAt is the length past which add next drops old events: events
	// are dropped in batches and the rest copied down in place, so an
	// event costs O(1) amortized, with at most twice the events kept
	// that must be.
	trimAt int
}

func newEventLog(minEvents, maxEvents int, fresh time.Duration) eventLog {
	return eventLog{min: minEvents, max: max(minEvents, maxEvents), fresh: fresh, trimAt: 2 * minEvents}
}

// reset empties the log at a listing of revision rev.
func (l *eventLog) reset(rev int64) {
	l.events, l.horizon, l.trimAt = nil, rev, 2*l.min
}

// add appends e, applied at e.at.
func (l *eventLog) add(e cachedEvent) {
	l.events = append(l.events, e)
	if len(l.events) > l.trimAt {
		l.trim(e.at)
	}
}

// trim drops the events older than fresh at now, beyond the newest min,
// and any beyond the newest max.
func (l *eventLog) trim(now int64) {
	n := len(l.events)
	staleBefore := now - l.fresh.Nanoseconds()
	cut := sort.Search(n, func(i int) bool { return l.events[i].at >= staleBefore })
	cut = max(min(cut, n-l.min), n-l.max, 0)
	if cut > 0 {
		l.horizon = l.events[cut-1].rev
		kept := copy(l.events, l.events[cut:])
		clear(l.events[kept:]) // let the dropped events' objects be collected
		l.events = l.events[:kept]
	}
	l.trimAt = min(max(2*len(l.events), 2*l.min), 2*l.max)
	if cap(l.events) > 2*l.trimAt { // after a burst: give its array back
		l.events = append(make([]cachedEvent, 0, l.trimAt), l.events...)
	}
}

// since returns the events after revision rev, which must not be older
// than the horizon.
func (l *eventLog) since(rev int64) []cachedEvent {
	i := sort.Search(len(l.events), func(i int) bool { return l.events[i].rev > rev })
	return l.events[i:]
}
