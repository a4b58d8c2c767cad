package job

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/utils/clock"
)

// expectationsTimeout bounds how long a job waits for the informer to show
// pod creations and deletions it asked for; a watch event that never comes
// must not stall the job for ever.
const expectationsTimeout = 5 * time.Minute

// expectations remember the writes whose effect the pod cache does not
// show yet, so that a sync on a stale cache neither creates a pod twice
// nor counts a finished pod twice.
type expectations struct {
	clock clock.PassiveClock

	mu   sync.Mutex
	jobs map[string]*podWrites
	// finalizersRemoved holds pods whose tracking finalizer was removed
	// (and which were counted) while the cache may still show it.
	finalizersRemoved sets.Set[types.UID]
}

// podWrites are a job's pod creations and deletions not yet observed.
type podWrites struct {
	creates int
	deletes sets.Set[types.UID]
	since   time.Time
}

func newExpectations(c clock.PassiveClock) *expectations {
	return &expectations{clock: c, jobs: map[string]*podWrites{}, finalizersRemoved: sets.New[types.UID]()}
}

// satisfied reports whether the cache reflects every pod creation and
// deletion of the job, or they are too old to wait for.
func (e *expectations) satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	w := e.jobs[key]
	if w == nil || (w.creates <= 0 && w.deletes.Len() == 0) {
		return true
	}
	return e.clock.Since(w.since) > expectationsTimeout
}

// expect records pod creations and deletions about to be made, replacing
// any older record (the job was satisfied, or it expired).
func (e *expectations) expect(key string, creates int, deletes []types.UID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.jobs[key] = &podWrites{creates: creates, deletes: sets.New(deletes...), since: e.clock.Now()}
}

// creationObserved counts one created pod seen in the cache, or one
// creation that failed and will never be seen.
func (e *expectations) creationObserved(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if w := e.jobs[key]; w != nil {
		w.creates--
	}
}

// deletionObserved marks the pod's deletion as seen (or failed).
func (e *expectations) deletionObserved(key string, uid types.UID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if w := e.jobs[key]; w != nil {
		w.deletes.Delete(uid)
	}
}

// forget drops a deleted job's record.
func (e *expectations) forget(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.jobs, key)
}

// finalizerRemoved records that the pod's finalizer was removed and the
// pod counted.
func (e *expectations) finalizerRemoved(uid types.UID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.finalizersRemoved.Insert(uid)
}

// finalizerRemovalObserved is called when the cache shows the pod without
// its finalizer, or deleted.
func (e *expectations) finalizerRemovalObserved(uid types.UID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.finalizersRemoved.Delete(uid)
}

// finalizerRemovalPending reports whether the cache's copy of the pod is
// older than the removal of its finalizer.
func (e *expectations) finalizerRemovalPending(uid types.UID) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.finalizersRemoved.Has(uid)
}
