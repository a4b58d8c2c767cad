package framework

import (
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
)

// StateKey names a plugin's entry in CycleState; by convention the
// plugin's name plus a suffix.
type StateKey string

// StateData is what a plugin keeps in CycleState between extension points.
// Clone must return a copy that preemption can change independently
// (AddPod/RemovePod on a clone must not affect the original).
type StateData interface {
	Clone() StateData
}

// CycleState carries data between the extension points of one scheduling
// cycle of one pod. It is safe for concurrent use: filters run in parallel
// across nodes (and must then only read).
//
// Reads take no lock: every filter and score plugin reads its state once
// per node, thousands of times a cycle from several goroutines, and even a
// read lock's shared counter made the cores fight over one cache line.
// Writes (a few per cycle, at pre-filter and pre-score) replace the list.
// It is a list, not a map: a cycle holds a handful of entries, and
// comparing a plugin's constant key with the stored one (the same string)
// costs less than hashing it, which was 1 % of the API server's CPU in a
// Deployment's scale-up.
type CycleState struct {
	writeMu sync.Mutex
	data    atomic.Pointer[[]stateEntry]
	// SkipFilterPlugins and SkipScorePlugins hold the plugins whose
	// pre-filter or pre-score returned Skip in this cycle.
	SkipFilterPlugins map[string]bool
	SkipScorePlugins  map[string]bool
	// filters, once set, are the filter plugins the cycle runs: the
	// profile's less those skipped, so the filters of each node need no
	// lookups in SkipFilterPlugins.
	filters    []FilterPlugin
	filtersSet bool
}

// SetFilters records the filter plugins the cycle runs, in order; the
// framework sets them once pre-filter is done.
func (c *CycleState) SetFilters(filters []FilterPlugin) {
	c.filters, c.filtersSet = filters, true
}

// Filters returns what SetFilters recorded, and false if it was not called.
func (c *CycleState) Filters() ([]FilterPlugin, bool) {
	return c.filters, c.filtersSet
}

// stateEntry is one plugin's data in a CycleState.
type stateEntry struct {
	key StateKey
	val StateData
}

// NewCycleState returns an empty state.
func NewCycleState() *CycleState {
	c := &CycleState{}
	c.data.Store(&[]stateEntry{})
	return c
}

// Read returns the data stored under key, or an error if there is none.
func (c *CycleState) Read(key StateKey) (StateData, error) {
	for _, e := range *c.data.Load() {
		if e.key == key {
			return e.val, nil
		}
	}
	return nil, fmt.Errorf("cycle state has no %q", key)
}

// Write stores val under key.
func (c *CycleState) Write(key StateKey, val StateData) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	cur := *c.data.Load()
	next := make([]stateEntry, len(cur), len(cur)+1)
	copy(next, cur)
	for i := range next {
		if next[i].key == key {
			next[i].val = val
			c.data.Store(&next)
			return
		}
	}
	next = append(next, stateEntry{key: key, val: val})
	c.data.Store(&next)
}

// Clone copies the state, cloning each entry.
func (c *CycleState) Clone() *CycleState {
	if c == nil {
		return nil
	}
	out := NewCycleState()
	cur := *c.data.Load()
	cloned := make([]stateEntry, len(cur))
	for i, e := range cur {
		cloned[i] = stateEntry{key: e.key, val: e.val.Clone()}
	}
	out.data.Store(&cloned)
	out.SkipFilterPlugins = maps.Clone(c.SkipFilterPlugins)
	out.SkipScorePlugins = maps.Clone(c.SkipScorePlugins)
	out.filters, out.filtersSet = c.filters, c.filtersSet
	return out
}
