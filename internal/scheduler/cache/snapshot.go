package cache

import (
	"fmt"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// Snapshot is a copy of the cache taken at the start of a scheduling
// cycle; plugins read it through framework.SharedLister while the cache
// keeps changing. It lists only nodes with a Node object. A Snapshot is
// used by one goroutine at a time.
type Snapshot struct {
	nodeInfos    map[string]*framework.NodeInfo
	all          nodeList
	affinity     nodeList
	antiAffinity nodeList
	orderVersion uint64
	changes      changeLog
}

var (
	_ framework.SharedLister   = (*Snapshot)(nil)
	_ framework.NodeInfoLister = (*Snapshot)(nil)
)

// NewSnapshot returns an empty snapshot; UpdateSnapshot fills it.
func NewSnapshot() *Snapshot {
	return &Snapshot{nodeInfos: map[string]*framework.NodeInfo{}, all: nodeList{numbered: true}}
}

// NodeInfos returns the snapshot itself: it is its own lister.
func (s *Snapshot) NodeInfos() framework.NodeInfoLister { return s }

// List returns every node, in the order the cache learned of them.
func (s *Snapshot) List() ([]*framework.NodeInfo, error) { return s.all.items, nil }

// HavePodsWithAffinityList returns the nodes running pods with pod
// (anti-)affinity terms.
func (s *Snapshot) HavePodsWithAffinityList() ([]*framework.NodeInfo, error) {
	return s.affinity.items, nil
}

// HavePodsWithRequiredAntiAffinityList returns the nodes running pods with
// required anti-affinity terms.
func (s *Snapshot) HavePodsWithRequiredAntiAffinityList() ([]*framework.NodeInfo, error) {
	return s.antiAffinity.items, nil
}

// Get returns the NodeInfo of nodeName.
func (s *Snapshot) Get(nodeName string) (*framework.NodeInfo, error) {
	if ni, ok := s.nodeInfos[nodeName]; ok {
		return ni, nil
	}
	return nil, fmt.Errorf("node %q not found in the scheduler's snapshot", nodeName)
}

// NumNodes is the number of nodes listed.
func (s *Snapshot) NumNodes() int { return len(s.all.items) }

// nodeList is an ordered list of NodeInfos whose entries can be replaced
// by name. The list of all nodes also numbers its NodeInfos
// (SnapshotIndex).
type nodeList struct {
	items    []*framework.NodeInfo
	pos      map[string]int
	numbered bool
}

func (l *nodeList) reset(items []*framework.NodeInfo) {
	l.items = items
	l.pos = make(map[string]int, len(items))
	for i, ni := range items {
		l.pos[ni.Name] = i
		if l.numbered {
			ni.SnapshotIndex = i
		}
	}
}

// replace swaps in a new copy of a listed node and returns its position.
// It changes the slice in place: the previous cycle, the only other
// reader, has ended.
func (l *nodeList) replace(name string, ni *framework.NodeInfo) (int, bool) {
	i, ok := l.pos[name]
	if ok {
		l.items[i] = ni
		if l.numbered {
			ni.SnapshotIndex = i
		}
	}
	return i, ok
}

// UpdateSnapshot brings s up to date with the cache, copying only the
// NodeInfos whose Generation changed since s last looked. The first
// update of a snapshot (or of another one than last time) compares every
// node.
func (c *Cache) UpdateSnapshot(s *Snapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s.changes.begin()
	var names []string
	if s != c.lastSnapshot {
		for name := range c.nodes {
			names = append(names, name)
		}
		for name := range s.nodeInfos {
			if _, ok := c.nodes[name]; !ok {
				names = append(names, name)
			}
		}
	} else {
		for name := range c.dirty {
			names = append(names, name)
		}
	}
	rebuildAll := s.orderVersion != c.orderVersion || s.all.pos == nil
	rebuildAffinity := false
	for _, name := range names {
		ni := c.nodes[name]
		old := s.nodeInfos[name]
		if ni == nil || ni.Node == nil {
			if old != nil {
				delete(s.nodeInfos, name)
				rebuildAll = true
			}
			continue
		}
		if old != nil && old.Generation == ni.Generation {
			continue
		}
		clone := ni.Clone()
		s.nodeInfos[name] = clone
		if old == nil {
			rebuildAll = true
			continue
		}
		if i, ok := s.all.replace(name, clone); ok {
			s.changes.replaced(i)
		}
		hadAff, hasAff := len(old.PodsWithAffinity) > 0, len(clone.PodsWithAffinity) > 0
		hadAnti, hasAnti := len(old.PodsWithRequiredAntiAffinity) > 0, len(clone.PodsWithRequiredAntiAffinity) > 0
		if hadAff != hasAff || hadAnti != hasAnti {
			rebuildAffinity = true
			continue
		}
		s.affinity.replace(name, clone)
		s.antiAffinity.replace(name, clone)
	}
	if rebuildAll {
		items := make([]*framework.NodeInfo, 0, len(c.order))
		for _, name := range c.order {
			if ni, ok := s.nodeInfos[name]; ok {
				items = append(items, ni)
			}
		}
		s.all.reset(items)
		s.orderVersion = c.orderVersion
		s.changes.rebuilt()
	}
	if rebuildAll || rebuildAffinity {
		var aff, anti []*framework.NodeInfo
		for _, ni := range s.all.items {
			if len(ni.PodsWithAffinity) > 0 {
				aff = append(aff, ni)
			}
			if len(ni.PodsWithRequiredAntiAffinity) > 0 {
				anti = append(anti, ni)
			}
		}
		s.affinity.reset(aff)
		s.antiAffinity.reset(anti)
	}
	clear(c.dirty)
	c.lastSnapshot = s
}
