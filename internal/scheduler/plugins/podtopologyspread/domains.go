package podtopologyspread

import (
	"slices"
	"sync"

	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// maxDomainKeys bounds nodeDomains; past it the memo starts afresh.
const maxDomainKeys = 64

// nodeDomains remembers which domain of a topology key each node lies in,
// by the node's position in the snapshot, as a small number. PreScore
// and Score look at the domain of every node each cycle; reading it from
// the node's labels cost more than the rest of the pass (big label maps,
// long keys that share their prefixes). An entry holds while the node
// object is the one it was read from; a snapshot that tells which nodes
// it replaced (nodeChanges) spares even the look at the others.
type nodeDomains struct {
	mu    sync.Mutex
	byKey map[string]*keyDomains
	memos uint64 // keyDomains made so far, which numbers them
}

// keyDomains is the memo of one topology key.
type keyDomains struct {
	// memo numbers this memo among those of nodeDomains: domain numbers
	// mean the same in the lists of one memo only.
	memo   uint64
	ids    map[string]int32 // label value to domain number
	values []string         // by domain number
	at     []domainEntry    // by snapshot position
	// list is the domains by position last handed out (nil before the
	// first), current for the snapshot's update numbered update. It is
	// never changed: a changed domain makes a new list.
	list   []nodeDomain
	update uint64
}

type domainEntry struct {
	node *corev1.Node
	nodeDomain
}

// nodeDomain is a node's domain of a key: the number of its label value
// (of "" if it has no such label, which labeled says).
type nodeDomain struct {
	id      int32
	labeled bool
}

// resolve returns the domain of key of each of nodes, the snapshot's list
// of all nodes, by position (the caller's), the label value of each
// domain number, and the number of the memo that numbered them. Both
// lists are read-only: later calls only append values, and hand out a new
// list when a domain changes.
func (d *nodeDomains) resolve(key string, nodes []*framework.NodeInfo, changes nodeChanges) ([]nodeDomain, []string, uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.byKey == nil || len(d.byKey) > maxDomainKeys {
		d.byKey = map[string]*keyDomains{}
	}
	kd := d.byKey[key]
	// Values no node holds any more are forgotten once they outnumber
	// the nodes.
	if kd == nil || len(kd.values) > 2*len(nodes)+16 {
		d.memos++
		kd = &keyDomains{memo: d.memos, ids: map[string]int32{}}
		d.byKey[key] = kd
	}
	if len(kd.at) < len(nodes) {
		kd.at = append(kd.at, make([]domainEntry, len(nodes)-len(kd.at))...)
	}
	positions, latest, ok := changes.since(kd.update, len(nodes))
	if kd.list == nil || !ok || len(kd.list) != len(nodes) {
		list := make([]nodeDomain, len(nodes))
		for n, ni := range nodes {
			// The first pass of a cycle over every node: load ahead.
			if n+framework.PrefetchAhead < len(nodes) {
				framework.Prefetch(nodes[n+framework.PrefetchAhead])
			}
			list[n] = kd.refresh(key, n, ni)
		}
		kd.list = list
	} else {
		copied := false
		for _, n := range positions {
			dom := kd.refresh(key, n, nodes[n])
			if kd.list[n] == dom {
				continue
			}
			if !copied {
				kd.list, copied = slices.Clone(kd.list), true
			}
			kd.list[n] = dom
		}
	}
	kd.update = latest
	return kd.list, kd.values, kd.memo
}

// refresh returns the domain of ni, at position n, reading its labels
// only if the entry there is not ni's node.
func (kd *keyDomains) refresh(key string, n int, ni *framework.NodeInfo) nodeDomain {
	e := &kd.at[n]
	if e.node != nil && e.node == ni.Node {
		return e.nodeDomain
	}
	var value string
	var labeled bool
	if ni.Node != nil {
		value, labeled = ni.Node.Labels[key]
	}
	id, ok := kd.ids[value]
	if !ok {
		id = int32(len(kd.values))
		kd.ids[value] = id
		kd.values = append(kd.values, value)
	}
	*e = domainEntry{node: ni.Node, nodeDomain: nodeDomain{id: id, labeled: labeled}}
	return e.nodeDomain
}

// nodeChanges asks the snapshot which nodes it replaced since an update,
// when it can tell (framework.NodeChangeLister).
type nodeChanges struct {
	lister framework.NodeChangeLister
}

// since returns the positions replaced after update, and the latest
// update; ok is false when every one of the n nodes must be looked at
// (also when a position is not one of theirs, as it cannot be while the
// snapshot's list is not rebuilt).
func (c nodeChanges) since(update uint64, n int) (positions []int, latest uint64, ok bool) {
	if c.lister == nil {
		return nil, 0, false
	}
	positions, latest, ok = c.lister.NodeChangesSince(update)
	for _, p := range positions {
		if p < 0 || p >= n {
			return nil, latest, false
		}
	}
	return positions, latest, ok
}
