package podtopologyspread

import (
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
// object is the one it was read from.
type nodeDomains struct {
	mu    sync.Mutex
	byKey map[string]*keyDomains
}

// keyDomains is the memo of one topology key.
type keyDomains struct {
	ids    map[string]int32 // label value to domain number
	values []string         // by domain number
	at     []domainEntry    // by snapshot position
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
// of all nodes, by position (the caller's), and the label value of each
// domain number (read-only: later calls only append).
func (d *nodeDomains) resolve(key string, nodes []*framework.NodeInfo) ([]nodeDomain, []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.byKey == nil || len(d.byKey) > maxDomainKeys {
		d.byKey = map[string]*keyDomains{}
	}
	kd := d.byKey[key]
	// Values no node holds any more are forgotten once they outnumber
	// the nodes.
	if kd == nil || len(kd.values) > 2*len(nodes)+16 {
		kd = &keyDomains{ids: map[string]int32{}}
		d.byKey[key] = kd
	}
	if len(kd.at) < len(nodes) {
		kd.at = append(kd.at, make([]domainEntry, len(nodes)-len(kd.at))...)
	}
	out := make([]nodeDomain, len(nodes))
	for n, ni := range nodes {
		// The first pass of a cycle over every node: load ahead.
		if n+framework.PrefetchAhead < len(nodes) {
			framework.Prefetch(nodes[n+framework.PrefetchAhead])
		}
		e := &kd.at[n]
		if e.node == nil || e.node != ni.Node {
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
		}
		out[n] = e.nodeDomain
	}
	return out, kd.values
}
