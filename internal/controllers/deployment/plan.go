package deployment

import (
	appsv1 "k8s.io/api/apps/v1"
)

// The planners here are pure: they read sizes and statuses and say which
// ReplicaSet to scale to what. The controller applies their steps.

// step scales one ReplicaSet to replicas.
type step struct {
	rs       *appsv1.ReplicaSet
	replicas int32
}

// newRSReplicas is the size the new ReplicaSet may grow to now. Recreate
// goes straight to spec.replicas; a rolling update adds pods while the
// total stays within spec.replicas + maxSurge.
func newRSReplicas(d *appsv1.Deployment, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) int32 {
	if !isRollingUpdate(d) {
		return desired(d)
	}
	current := rsReplicas(newRS)
	ceiling := desired(d) + maxSurge(d)
	total := specReplicas(all)
	if total >= ceiling {
		return current // no room to surge
	}
	return current + min(ceiling-total, max(desired(d)-current, 0))
}

// availableOf counts rs's available pods, but never more than it is
// scaled to: right after a scale-down its status still counts the pods
// being removed, and trusting that would let the rollout remove more pods
// than maxUnavailable allows.
func availableOf(rs *appsv1.ReplicaSet) int32 {
	return min(rs.Status.AvailableReplicas, rsReplicas(rs))
}

// maxScaleDown is how many old pods a rolling update may remove now
// without dropping below spec.replicas - maxUnavailable, counting the new
// ReplicaSet's not-yet-available pods as missing.
func maxScaleDown(d *appsv1.Deployment, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) int32 {
	minAvailable := desired(d) - maxUnavailable(d)
	newUnavailable := int32(0)
	if newRS != nil {
		newUnavailable = rsReplicas(newRS) - availableOf(newRS)
	}
	return specReplicas(all) - minAvailable - newUnavailable
}

// unhealthyCleanup plans removing old pods that are not available, oldest
// ReplicaSet first, at most limit of them: they serve nobody, so removing
// them costs no availability and makes room for new pods.
func unhealthyCleanup(old []*appsv1.ReplicaSet, limit int32) ([]step, int32) {
	var steps []step
	var total int32
	for _, rs := range sortedByAge(old) {
		if total >= limit {
			break
		}
		unhealthy := rsReplicas(rs) - availableOf(rs)
		if rsReplicas(rs) == 0 || unhealthy <= 0 {
			continue
		}
		n := min(limit-total, unhealthy)
		steps = append(steps, step{rs: rs, replicas: rsReplicas(rs) - n})
		total += n
	}
	return steps, total
}

// healthyScaleDown plans removing available old pods, oldest ReplicaSet
// first, while at least spec.replicas - maxUnavailable stay available.
// all must reflect the sizes after unhealthyCleanup.
func healthyScaleDown(d *appsv1.Deployment, all, old []*appsv1.ReplicaSet) []step {
	minAvailable := desired(d) - maxUnavailable(d)
	var avail int32
	for _, rs := range all {
		avail += availableOf(rs)
	}
	budget := avail - minAvailable
	var steps []step
	for _, rs := range sortedByAge(old) {
		if budget <= 0 {
			break
		}
		if rsReplicas(rs) == 0 {
			continue
		}
		n := min(rsReplicas(rs), budget)
		steps = append(steps, step{rs: rs, replicas: rsReplicas(rs) - n})
		budget -= n
	}
	return steps
}

// activeOrLatest is the one ReplicaSet to scale when d's size changes and
// at most one ReplicaSet has pods: that one, else the new one, else the
// newest old one. It returns nil when several have pods.
func activeOrLatest(newRS *appsv1.ReplicaSet, old []*appsv1.ReplicaSet) *appsv1.ReplicaSet {
	active := activeSets(withNew(old, newRS))
	switch len(active) {
	case 0:
		if newRS != nil {
			return newRS
		}
		if len(old) == 0 {
			return nil
		}
		sorted := sortedByAge(old)
		return sorted[len(sorted)-1]
	case 1:
		return active[0]
	}
	return nil
}

// saturated reports whether rs runs all of d's pods, available, at d's
// current size.
func saturated(d *appsv1.Deployment, rs *appsv1.ReplicaSet) bool {
	if rs == nil {
		return false
	}
	want, ok := int32Annotation(rs, desiredReplicasAnnotation)
	return ok && want == desired(d) && rsReplicas(rs) == desired(d) && rs.Status.AvailableReplicas == desired(d)
}
