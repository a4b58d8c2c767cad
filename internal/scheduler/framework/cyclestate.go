package framework

import (
	"fmt"
	"sync"
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
type CycleState struct {
	mu   sync.RWMutex
	data map[StateKey]StateData
	// SkipFilterPlugins and SkipScorePlugins hold the plugins whose
	// pre-filter or pre-score returned Skip in this cycle.
	SkipFilterPlugins map[string]bool
	SkipScorePlugins  map[string]bool
}

// NewCycleState returns an empty state.
func NewCycleState() *CycleState {
	return &CycleState{data: map[StateKey]StateData{}}
}

// Read returns the data stored under key, or an error if there is none.
func (c *CycleState) Read(key StateKey) (StateData, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if v, ok := c.data[key]; ok {
		return v, nil
	}
	return nil, fmt.Errorf("cycle state has no %q", key)
}

// Write stores val under key.
func (c *CycleState) Write(key StateKey, val StateData) {
	c.mu.Lock()
	c.data[key] = val
	c.mu.Unlock()
}

// Clone copies the state, cloning each entry.
func (c *CycleState) Clone() *CycleState {
	if c == nil {
		return nil
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := NewCycleState()
	for k, v := range c.data {
		out.data[k] = v.Clone()
	}
	out.SkipFilterPlugins = cloneSet(c.SkipFilterPlugins)
	out.SkipScorePlugins = cloneSet(c.SkipScorePlugins)
	return out
}

func cloneSet(m map[string]bool) map[string]bool {
	if m == nil {
		return nil
	}
	out := make(map[string]bool, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
