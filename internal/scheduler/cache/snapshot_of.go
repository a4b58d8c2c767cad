package cache

import "github.com/tugcluster/tug/internal/scheduler/framework"

// NewSnapshotOf returns a snapshot listing exactly nodes, in that order,
// without copying them: plugin tests and benchmarks read the very
// NodeInfos they built, through the same lister the scheduler uses. The
// affinity lists are computed once, here, as UpdateSnapshot does, so
// pods added to the NodeInfos afterwards are not reflected in them.
func NewSnapshotOf(nodes ...*framework.NodeInfo) *Snapshot {
	s := NewSnapshot()
	var aff, anti []*framework.NodeInfo
	for _, ni := range nodes {
		s.nodeInfos[ni.NodeName()] = ni
		if len(ni.PodsWithAffinity) > 0 {
			aff = append(aff, ni)
		}
		if len(ni.PodsWithRequiredAntiAffinity) > 0 {
			anti = append(anti, ni)
		}
	}
	s.all.reset(nodes)
	s.affinity.reset(aff)
	s.antiAffinity.reset(anti)
	return s
}
