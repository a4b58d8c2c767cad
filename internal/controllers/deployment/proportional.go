package deployment

import (
	"cmp"
	"math"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
)

// proportionalSizes spreads a change of d's size over its active
// ReplicaSets in proportion to their sizes, when d is scaled in the middle
// of a rollout. It returns the new size of each ReplicaSet (by name),
// the first of which (the largest) absorbs any rounding leftover, and
// "up" or "down". active must be the ReplicaSets with replicas.
func proportionalSizes(d *appsv1.Deployment, active []*appsv1.ReplicaSet) (map[string]int32, string) {
	allowed := int32(0)
	if desired(d) > 0 {
		allowed = desired(d) + maxSurge(d)
	}
	toAdd := allowed - specReplicas(active)
	sets := slices.Clone(active)
	op := ""
	switch {
	case toAdd > 0:
		// Largest first, newer first among equals: they take new pods.
		slices.SortFunc(sets, func(a, b *appsv1.ReplicaSet) int {
			if c := cmp.Compare(rsReplicas(b), rsReplicas(a)); c != 0 {
				return c
			}
			return byAge(b, a)
		})
		op = "up"
	case toAdd < 0:
		// Largest first, older first among equals: they give pods up.
		slices.SortFunc(sets, func(a, b *appsv1.ReplicaSet) int {
			if c := cmp.Compare(rsReplicas(b), rsReplicas(a)); c != 0 {
				return c
			}
			return byAge(a, b)
		})
		op = "down"
	}
	sizes := make(map[string]int32, len(sets))
	added := int32(0)
	for _, rs := range sets {
		p := proportion(d, rs, toAdd, added)
		sizes[rs.Name] = rsReplicas(rs) + p
		added += p
	}
	if len(sets) > 0 && toAdd != 0 {
		first := sets[0].Name
		sizes[first] = max(sizes[first]+toAdd-added, 0)
	}
	return sizes, op
}

// proportion is rs's share of toAdd, of which added is already given out:
// its fraction of the new total, bounded by what is left.
func proportion(d *appsv1.Deployment, rs *appsv1.ReplicaSet, toAdd, added int32) int32 {
	if rsReplicas(rs) == 0 || toAdd == 0 || toAdd == added {
		return 0
	}
	f := fraction(d, rs)
	left := toAdd - added
	if toAdd > 0 {
		return min(f, left)
	}
	return max(f, left)
}

// fraction is how many pods rs gains (or loses, negative) if it keeps its
// share of the Deployment's pods at the new size. Its share is measured
// against the size it was last scaled for (max-replicas), falling back to
// the Deployment's current pod count.
func fraction(d *appsv1.Deployment, rs *appsv1.ReplicaSet) int32 {
	if desired(d) == 0 {
		return -rsReplicas(rs)
	}
	newTotal := desired(d) + maxSurge(d)
	oldTotal, ok := int32Annotation(rs, maxReplicasAnnotation)
	if !ok || oldTotal <= 0 {
		oldTotal = d.Status.Replicas
	}
	if oldTotal <= 0 {
		return 0
	}
	size := float64(rsReplicas(rs)) * float64(newTotal) / float64(oldTotal)
	return int32(math.Round(size)) - rsReplicas(rs)
}
