package interpodaffinity

import corev1 "k8s.io/api/core/v1"

// topologyCounts counts, per topology key and value (a topology domain),
// the pods or weights found there. It is keyed by key first so that a
// node is checked with one look-up per key rather than one per domain.
// Entries that reach zero are deleted, so an empty map means "none
// anywhere".
type topologyCounts map[string]map[string]int64

// add adds delta to the domain of key that node lies in; nodes without
// the key are in no domain of it. A nil map is allocated on first use, so
// per-node partial counts cost nothing where nothing matches.
func (c *topologyCounts) add(node *corev1.Node, key string, delta int64) {
	value, ok := node.Labels[key]
	if !ok || delta == 0 {
		return
	}
	if *c == nil {
		*c = topologyCounts{}
	}
	values := (*c)[key]
	if values == nil {
		values = map[string]int64{}
		(*c)[key] = values
	}
	n := values[value] + delta
	if n != 0 {
		values[value] = n
		return
	}
	delete(values, value)
	if len(values) == 0 {
		delete(*c, key)
	}
}

// onNode returns the count of the domain of key that node lies in, and
// whether node has the key at all.
func (c topologyCounts) onNode(node *corev1.Node, key string) (int64, bool) {
	value, ok := node.Labels[key]
	if !ok {
		return 0, false
	}
	return c[key][value], true
}

// anyOnNode reports whether node lies in a domain with a positive count.
func (c topologyCounts) anyOnNode(node *corev1.Node) bool {
	for key, values := range c {
		if value, ok := node.Labels[key]; ok && values[value] > 0 {
			return true
		}
	}
	return false
}

// sumOnNode adds up the counts of every domain node lies in.
func (c topologyCounts) sumOnNode(node *corev1.Node) int64 {
	var sum int64
	for key, values := range c {
		if value, ok := node.Labels[key]; ok {
			sum += values[value]
		}
	}
	return sum
}

// merge adds every count in o to c, which must not be nil unless o is
// empty.
func (c topologyCounts) merge(o topologyCounts) {
	for key, values := range o {
		dst := c[key]
		if dst == nil {
			dst = make(map[string]int64, len(values))
			c[key] = dst
		}
		for value, n := range values {
			dst[value] += n
			if dst[value] == 0 {
				delete(dst, value)
			}
		}
		if len(dst) == 0 {
			delete(c, key)
		}
	}
}

// clone returns a deep copy.
func (c topologyCounts) clone() topologyCounts {
	out := make(topologyCounts, len(c))
	for key, values := range c {
		dst := make(map[string]int64, len(values))
		for value, n := range values {
			dst[value] = n
		}
		out[key] = dst
	}
	return out
}
