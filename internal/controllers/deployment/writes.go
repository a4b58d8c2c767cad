package deployment

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// updateRS writes updated (a modified copy of rs) and, on success, makes
// rs the stored object, so later steps of the sync see the new size.
func (c *Controller) updateRS(ctx context.Context, rs, updated *appsv1.ReplicaSet) error {
	stored, err := c.client.AppsV1().ReplicaSets(rs.Namespace).Update(ctx, updated, metav1.UpdateOptions{})
	if err != nil {
		return fmt.Errorf("update replica set %s/%s: %w", rs.Namespace, rs.Name, err)
	}
	*rs = *stored
	return nil
}

// updateStatus writes d's status and keeps d current.
func (c *Controller) updateStatus(ctx context.Context, d *appsv1.Deployment) error {
	stored, err := c.client.AppsV1().Deployments(d.Namespace).UpdateStatus(ctx, d, metav1.UpdateOptions{})
	if err != nil {
		return fmt.Errorf("update status of deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	*d = *stored
	return nil
}

// scale sets rs to replicas, choosing "up" or "down" for the Event; it
// reports whether the size changed.
func (c *Controller) scale(ctx context.Context, d *appsv1.Deployment, rs *appsv1.ReplicaSet, replicas int32) (bool, error) {
	op := "down"
	if replicas > rsReplicas(rs) {
		op = "up"
	}
	return c.scaleRS(ctx, d, rs, replicas, op)
}

// scaleRS sets rs to replicas and stamps the Deployment size it was
// scaled for (proportional scaling reads it back). It reports whether the
// size changed; annotation-only updates are not scaling.
func (c *Controller) scaleRS(ctx context.Context, d *appsv1.Deployment, rs *appsv1.ReplicaSet, replicas int32, op string) (bool, error) {
	from := rsReplicas(rs)
	resized := from != replicas
	updated := rs.DeepCopy()
	annotated := setReplicasAnnotations(updated, desired(d), desired(d)+maxSurge(d))
	if !resized && !annotated {
		return false, nil
	}
	updated.Spec.Replicas = &replicas
	if err := c.updateRS(ctx, rs, updated); err != nil {
		return false, err
	}
	if resized {
		c.recorder.Eventf(d, nil, corev1.EventTypeNormal, "ScalingReplicaSet", "Scale",
			"Scaled %s replica set %s from %d to %d", op, rs.Name, from, replicas)
	}
	return resized, nil
}

// apply runs planned steps, reporting whether any resized a ReplicaSet.
func (c *Controller) apply(ctx context.Context, d *appsv1.Deployment, steps []step) (bool, error) {
	changed := false
	for _, s := range steps {
		resized, err := c.scale(ctx, d, s.rs, s.replicas)
		if err != nil {
			return changed, err
		}
		changed = changed || resized
	}
	return changed, nil
}
