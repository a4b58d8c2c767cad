package cache

import (
	"sort"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// maxLoggedChanges bounds a snapshot's change log; past it the older half
// is forgotten (their readers then revisit every node once).
const maxLoggedChanges = 1 << 14

var _ framework.NodeChangeLister = (*Snapshot)(nil)

// changeLog remembers which positions of a snapshot's node list each
// update replaced. Updates are numbered from 1; the log covers the
// updates after since. It is only kept by UpdateSnapshot: a snapshot
// built over given NodeInfos (NewSnapshotOf) cannot know when its callers
// change them, and reports nothing.
type changeLog struct {
	tracked   bool
	latest    uint64
	since     uint64
	updates   []uint64 // the update of each logged position, ascending
	positions []int
}

// begin numbers a new update.
func (l *changeLog) begin() {
	l.tracked = true
	l.latest++
}

// replaced logs position as replaced by the current update.
func (l *changeLog) replaced(position int) {
	if len(l.positions) >= maxLoggedChanges {
		half := len(l.positions) / 2
		l.since = l.updates[half-1]
		l.updates = append(l.updates[:0], l.updates[half:]...)
		l.positions = append(l.positions[:0], l.positions[half:]...)
	}
	l.updates = append(l.updates, l.latest)
	l.positions = append(l.positions, position)
}

// rebuilt forgets every change: the positions of the nodes moved.
func (l *changeLog) rebuilt() {
	l.since = l.latest
	l.updates, l.positions = l.updates[:0], l.positions[:0]
}

// NodeChangesSince implements framework.NodeChangeLister.
func (s *Snapshot) NodeChangesSince(update uint64) ([]int, uint64, bool) {
	l := &s.changes
	if !l.tracked || update < l.since || update > l.latest {
		return nil, l.latest, false
	}
	first := sort.Search(len(l.updates), func(i int) bool { return l.updates[i] > update })
	return l.positions[first:], l.latest, true
}
