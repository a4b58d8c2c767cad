package deployment

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// rolling replaces old pods with new ones a few at a time: the new
// ReplicaSet grows within maxSurge, old ones shrink while at least
// spec.replicas - maxUnavailable pods stay available.
func (c *Controller) rolling(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) error {
	newRS, old, err := c.replicaSets(ctx, d, rsList, true)
	if err != nil {
		return err
	}
	all := withNew(old, newRS)
	scaledUp, err := c.reconcileNew(ctx, d, all, newRS)
	if err != nil {
		return err
	}
	if scaledUp {
		return c.syncRolloutStatus(ctx, d, all, newRS)
	}
	scaledDown, err := c.reconcileOld(ctx, d, all, old, newRS)
	if err != nil {
		return err
	}
	if !scaledDown && complete(d, &d.Status) {
		if err := c.cleanup(ctx, d, old); err != nil {
			return err
		}
	}
	return c.syncRolloutStatus(ctx, d, all, newRS)
}

// reconcileNew grows the new ReplicaSet as far as maxSurge allows, or
// shrinks it to spec.replicas when it is larger.
func (c *Controller) reconcileNew(ctx context.Context, d *appsv1.Deployment, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) (bool, error) {
	switch {
	case rsReplicas(newRS) == desired(d):
		return false, nil
	case rsReplicas(newRS) > desired(d):
		return c.scale(ctx, d, newRS, desired(d))
	}
	return c.scale(ctx, d, newRS, newRSReplicas(d, all, newRS))
}

// reconcileOld shrinks old ReplicaSets: first their unavailable pods, then
// available ones within the availability budget.
func (c *Controller) reconcileOld(ctx context.Context, d *appsv1.Deployment, all, old []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) (bool, error) {
	if specReplicas(old) == 0 {
		return false, nil
	}
	limit := maxScaleDown(d, all, newRS)
	if limit <= 0 {
		return false, nil
	}
	steps, _ := unhealthyCleanup(activeSets(old), limit)
	cleaned, err := c.apply(ctx, d, steps)
	if err != nil {
		return false, err
	}
	scaled, err := c.apply(ctx, d, healthyScaleDown(d, all, activeSets(old)))
	return cleaned || scaled, err
}

// recreate removes every old pod before the new ReplicaSet gets any.
func (c *Controller) recreate(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) error {
	newRS, old, err := c.replicaSets(ctx, d, rsList, false)
	if err != nil {
		return err
	}
	all := withNew(old, newRS)
	var steps []step
	for _, rs := range activeSets(old) {
		steps = append(steps, step{rs: rs, replicas: 0})
	}
	scaledDown, err := c.apply(ctx, d, steps)
	if err != nil {
		return err
	}
	if scaledDown || c.oldPodsRunning(newRS, old) {
		return c.syncRolloutStatus(ctx, d, all, newRS)
	}
	if newRS == nil {
		if newRS, old, err = c.replicaSets(ctx, d, rsList, true); err != nil {
			return err
		}
		all = withNew(old, newRS)
	}
	if _, err := c.scale(ctx, d, newRS, desired(d)); err != nil {
		return err
	}
	if complete(d, &d.Status) {
		if err := c.cleanup(ctx, d, old); err != nil {
			return err
		}
	}
	return c.syncRolloutStatus(ctx, d, all, newRS)
}

// oldPodsRunning reports whether any pod of an old ReplicaSet may still
// run: counted in status, or present in the cache, terminating or not,
// unless it finished.
func (c *Controller) oldPodsRunning(newRS *appsv1.ReplicaSet, old []*appsv1.ReplicaSet) bool {
	if sumStatus(old, statusReplicas) > 0 {
		return true
	}
	for _, rs := range old {
		if newRS != nil && rs.UID == newRS.UID {
			continue
		}
		for _, pod := range c.podsOf(rs.UID) {
			if pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed {
				return true
			}
		}
	}
	return false
}

// resize handles a change of spec.replicas, and paused Deployments: no
// rollout, only sizes. A single active ReplicaSet takes the new size; a
// saturated new one drains the old ones; otherwise the change is spread
// in proportion over all active ReplicaSets.
func (c *Controller) resize(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) error {
	newRS, old, err := c.replicaSets(ctx, d, rsList, false)
	if err != nil {
		return err
	}
	if err := c.resizeSets(ctx, d, newRS, old); err != nil {
		return err
	}
	if d.Spec.Paused {
		if err := c.cleanup(ctx, d, old); err != nil {
			return err
		}
	}
	return c.syncStatus(ctx, d, withNew(old, newRS), newRS)
}

func (c *Controller) resizeSets(ctx context.Context, d *appsv1.Deployment, newRS *appsv1.ReplicaSet, old []*appsv1.ReplicaSet) error {
	if rs := activeOrLatest(newRS, old); rs != nil {
		_, err := c.scale(ctx, d, rs, desired(d))
		return err
	}
	if saturated(d, newRS) {
		var steps []step
		for _, rs := range activeSets(old) {
			steps = append(steps, step{rs: rs, replicas: 0})
		}
		_, err := c.apply(ctx, d, steps)
		return err
	}
	if !isRollingUpdate(d) {
		return nil
	}
	active := activeSets(withNew(old, newRS))
	sizes, op := proportionalSizes(d, active)
	for _, rs := range active {
		if _, err := c.scaleRS(ctx, d, rs, sizes[rs.Name], op); err != nil {
			return err
		}
	}
	return nil
}

// scalingEvent reports whether d's size changed since its active
// ReplicaSets were last scaled (their desired-replicas annotation).
func scalingEvent(d *appsv1.Deployment, newRS *appsv1.ReplicaSet, old []*appsv1.ReplicaSet) bool {
	for _, rs := range activeSets(withNew(old, newRS)) {
		if want, ok := int32Annotation(rs, desiredReplicasAnnotation); ok && want != desired(d) {
			return true
		}
	}
	return false
}
