package daemonset

import (
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// expectationsTTL bounds how long a sync waits for the informer to show
// the pods it created or deleted before trusting the cache again.
const expectationsTTL = 5 * time.Minute

// expectations counts, per daemon set, the creations and deletions issued
// that the pod informer has not shown yet. Daemon pods have generated
// names, so until the cache catches up a second sync would create twice.
// Safe for concurrent use.
type expectations struct {
	clock clock.PassiveClock
	mu    sync.Mutex
	m     map[string]*pending
}

type pending struct {
	creations, deletions int
	at                   time.Time
}

func newExpectations(c clock.PassiveClock) *expectations {
	return &expectations{clock: c, m: map[string]*pending{}}
}

// satisfied reports whether key has nothing outstanding or waited too long.
func (e *expectations) satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, ok := e.m[key]
	if !ok || (p.creations <= 0 && p.deletions <= 0) {
		return true
	}
	return e.clock.Since(p.at) > expectationsTTL
}

// expect records creations and deletions about to be issued for key.
func (e *expectations) expect(key string, creations, deletions int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.m[key] = &pending{creations: creations, deletions: deletions, at: e.clock.Now()}
}

// observed lowers key's outstanding creations and deletions.
func (e *expectations) observed(key string, creations, deletions int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if p, ok := e.m[key]; ok {
		p.creations -= creations
		p.deletions -= deletions
	}
}

func (e *expectations) forget(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, key)
}
