package replicaset

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
)

// A scale-up of thousands of pods would write one Event per pod, doubling
// the API server's writes for no reader's benefit. Like upstream's
// per-object spam filter, each object and reason gets a burst of
// eventBurst Events, then one per eventRefill.
const (
	eventBurst  = 25
	eventRefill = 5 * time.Minute
	// maxBuckets bounds the memory of idle buckets; full buckets carry no
	// state worth keeping and are dropped past it.
	maxBuckets = 1024
)

// limitedRecorder passes on the Events each (object, reason) pair's
// token bucket allows.
type limitedRecorder struct {
	events.EventRecorder
	clock   clock.PassiveClock
	mu      sync.Mutex
	buckets map[bucketKey]*bucket
}

type bucketKey struct{ uid, reason string }

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimitedRecorder(r events.EventRecorder, c clock.PassiveClock) *limitedRecorder {
	return &limitedRecorder{EventRecorder: r, clock: c, buckets: map[bucketKey]*bucket{}}
}

// Eventf implements events.EventRecorder.
func (r *limitedRecorder) Eventf(regarding, related runtime.Object, eventtype, reason, action, note string, args ...any) {
	if r.allow(regarding, reason) {
		r.EventRecorder.Eventf(regarding, related, eventtype, reason, action, note, args...)
	}
}

// eventfLazily is Eventf whose arguments args works out only for an Event
// the bucket lets through.
func (r *limitedRecorder) eventfLazily(regarding runtime.Object, eventtype, reason, action, note string, args func() []any) {
	if r.allow(regarding, reason) {
		r.EventRecorder.Eventf(regarding, nil, eventtype, reason, action, note, args()...)
	}
}

func (r *limitedRecorder) allow(obj runtime.Object, reason string) bool {
	accessor, err := meta.Accessor(obj)
	if err != nil {
		return true
	}
	key := bucketKey{uid: string(accessor.GetUID()), reason: reason}
	now := r.clock.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	b, ok := r.buckets[key]
	if !ok {
		r.prune(now)
		b = &bucket{tokens: eventBurst, at: now}
		r.buckets[key] = b
	}
	b.refill(now)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func (b *bucket) refill(now time.Time) {
	if elapsed := now.Sub(b.at); elapsed > 0 {
		b.tokens = min(eventBurst, b.tokens+float64(elapsed)/float64(eventRefill))
		b.at = now
	}
}

// prune drops buckets that have refilled completely once there are many.
func (r *limitedRecorder) prune(now time.Time) {
	if len(r.buckets) < maxBuckets {
		return
	}
	for k, b := range r.buckets {
		if b.refill(now); b.tokens >= eventBurst {
			delete(r.buckets, k)
		}
	}
}
