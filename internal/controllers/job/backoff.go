package job

import (
	"slices"
	"sync"
	"time"
)

// Back-off of pod re-creation after failures: 10s after the first failure,
// doubling with each further one, never more than six minutes.
const (
	initialBackoff = 10 * time.Second
	maxBackoff     = 6 * time.Minute
)

// backoffDelay is how long to wait after the last of failures consecutive
// failures before creating a replacement pod.
func backoffDelay(failures int) time.Duration {
	if failures <= 0 {
		return 0
	}
	d := initialBackoff
	for i := 1; i < failures && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}

// backoffRecord is a job's run of failures since its last success.
type backoffRecord struct {
	failures    int
	lastFailure time.Time
}

// remaining is how long pod creation must still wait at now.
func (r backoffRecord) remaining(now time.Time) time.Duration {
	if r.failures == 0 {
		return 0
	}
	return max(r.lastFailure.Add(backoffDelay(r.failures)).Sub(now), 0)
}

// finishedPod is one newly counted pod, for the back-off record.
type finishedPod struct {
	at        time.Time
	succeeded bool
}

// backoffStore keeps each job's record in memory, keyed by namespace/name.
// It is rebuilt from nothing on restart: at worst a replacement pod comes
// one back-off period early.
type backoffStore struct {
	mu      sync.Mutex
	records map[string]backoffRecord
}

func newBackoffStore() *backoffStore {
	return &backoffStore{records: map[string]backoffRecord{}}
}

func (s *backoffStore) get(key string) backoffRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.records[key]
}

// record folds newly counted pods, in finishing order, into the job's
// record: a success ends the run of failures.
func (s *backoffStore) record(key string, pods []finishedPod) {
	if len(pods) == 0 {
		return
	}
	slices.SortStableFunc(pods, func(a, b finishedPod) int { return a.at.Compare(b.at) })
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.records[key]
	for _, p := range pods {
		switch {
		case p.succeeded && p.at.After(r.lastFailure):
			r = backoffRecord{}
		case !p.succeeded:
			r.failures++
			if p.at.After(r.lastFailure) {
				r.lastFailure = p.at
			}
		}
	}
	s.records[key] = r
}

func (s *backoffStore) forget(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.records, key)
}
