package replicaset

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/utils/clock"
)

// expectationsTTL bounds how long a sync waits for the informer to report
// the creations and deletions it made; after that it trusts the cache again
// (a lost event must not stall a controller forever).
const expectationsTTL = 5 * time.Minute

// expectations remembers, per controller key, the pod creations and
// deletions a sync issued that the informer has not shown yet. Until they
// are seen, the cache undercounts or overcounts pods, and acting on it
// would create or delete twice. Safe for concurrent use.
type expectations struct {
	clock clock.PassiveClock
	mu    sync.Mutex
	m     map[string]*expectation
}

type expectation struct {
	creations int
	deletions sets.Set[string] // keys of pods being deleted
	at        time.Time
}

func newExpectations(c clock.PassiveClock) *expectations {
	return &expectations{clock: c, m: map[string]*expectation{}}
}

// satisfied reports whether key has nothing outstanding, or has waited
// longer than expectationsTTL.
func (e *expectations) satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.m[key]
	if !ok || !x.outstanding() {
		return true
	}
	return e.clock.Since(x.at) > expectationsTTL
}

// expectCreations records n creations about to be issued for key.
func (e *expectations) expectCreations(key string, n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.m[key] = &expectation{creations: n, deletions: sets.New[string](), at: e.clock.Now()}
}

// expectDeletions records the deletion of pods (by key) about to be issued
// for key.
func (e *expectations) expectDeletions(key string, pods []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.m[key] = &expectation{deletions: sets.New(pods...), at: e.clock.Now()}
}

// creationObserved counts one creation for key as seen (or as never going
// to happen, when the create failed). It reports whether that met the
// last outstanding expectation, when a sync can act again.
func (e *expectations) creationObserved(key string) bool { return e.lowerCreations(key, 1) }

func (e *expectations) lowerCreations(key string, n int) (met bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.m[key]; ok {
		before := x.outstanding()
		x.creations -= n
		return before && !x.outstanding()
	}
	return false
}

// deletionObserved marks the deletion of pod as seen for key (or as never
// going to happen). It reports whether that met the last outstanding
// expectation.
func (e *expectations) deletionObserved(key, pod string) (met bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.m[key]; ok {
		before := x.outstanding()
		x.deletions.Delete(pod)
		return before && !x.outstanding()
	}
	return false
}

// outstanding reports whether creations or deletions are still to be
// seen.
func (x *expectation) outstanding() bool { return x.creations > 0 || x.deletions.Len() > 0 }

// forget drops key, whose controller is gone.
func (e *expectations) forget(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, key)
}
