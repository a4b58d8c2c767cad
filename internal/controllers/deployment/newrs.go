package deployment

import (
	"context"
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// replicaSets splits d's ReplicaSets into the new one (nil if none runs
// the current template) and the old ones. When create is set, a missing
// new ReplicaSet is created. The new ReplicaSet is stamped with the next
// revision and d's annotations, and d with that revision.
func (c *Controller) replicaSets(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet, create bool) (*appsv1.ReplicaSet, []*appsv1.ReplicaSet, error) {
	newRS, old := findNewReplicaSet(d, rsList)
	next := maxRevision(old) + 1
	switch {
	case newRS != nil:
		return newRS, old, c.syncNewReplicaSet(ctx, d, newRS, next)
	case !create:
		return nil, old, nil
	}
	newRS, err := c.createNewReplicaSet(ctx, d, old, next)
	return newRS, old, err
}

// syncNewReplicaSet brings an existing new ReplicaSet's revision,
// annotations and minReadySeconds up to date, then d's revision.
func (c *Controller) syncNewReplicaSet(ctx context.Context, d *appsv1.Deployment, rs *appsv1.ReplicaSet, next int64) error {
	updated := rs.DeepCopy()
	changed := setNewRSAnnotations(d, updated, next)
	if updated.Spec.MinReadySeconds != d.Spec.MinReadySeconds {
		updated.Spec.MinReadySeconds = d.Spec.MinReadySeconds
		changed = true
	}
	if changed {
		if err := c.updateRS(ctx, rs, updated); err != nil {
			return err
		}
	}
	if err := c.setRevision(ctx, d, rs.Annotations[revisionAnnotation]); err != nil {
		return err
	}
	if hasProgressDeadline(d) && getCondition(&d.Status, appsv1.DeploymentProgressing) == nil {
		// Progress is measured from when a new ReplicaSet was first seen.
		setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, reasonFoundNewRS,
			fmt.Sprintf("Found new replica set %q", rs.Name), c.clock.Now()))
		return c.updateStatus(ctx, d)
	}
	return nil
}

// createNewReplicaSet creates the ReplicaSet for d's current template,
// named after the template's hash, at the size the strategy allows now.
func (c *Controller) createNewReplicaSet(ctx context.Context, d *appsv1.Deployment, old []*appsv1.ReplicaSet, next int64) (*appsv1.ReplicaSet, error) {
	hash := templateHash(&d.Spec.Template, d.Status.CollisionCount)
	template := *d.Spec.Template.DeepCopy()
	template.Labels = withLabel(template.Labels, appsv1.DefaultDeploymentUniqueLabelKey, hash)
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Name: d.Name + "-" + hash, Namespace: d.Namespace, Labels: template.Labels,
			OwnerReferences: []metav1.OwnerReference{ownerRef(d)},
		},
		Spec: appsv1.ReplicaSetSpec{
			Replicas:        ptr.To[int32](0),
			MinReadySeconds: d.Spec.MinReadySeconds,
			Selector:        selectorWithLabel(d.Spec.Selector, appsv1.DefaultDeploymentUniqueLabelKey, hash),
			Template:        template,
		},
	}
	size := newRSReplicas(d, withNew(old, rs), rs)
	rs.Spec.Replicas = ptr.To(size)
	setNewRSAnnotations(d, rs, next)
	setReplicasAnnotations(rs, desired(d), desired(d)+maxSurge(d))

	created, err := c.client.AppsV1().ReplicaSets(d.Namespace).Create(ctx, rs, metav1.CreateOptions{})
	existed := false
	switch {
	case apierrors.IsAlreadyExists(err):
		found, ok := c.existingNewReplicaSet(ctx, d, rs.Name)
		if !ok {
			// Another template owns the name: a hash collision. Count it
			// so the next attempt hashes differently.
			d.Status.CollisionCount = ptr.To(ptr.Deref(d.Status.CollisionCount, 0) + 1)
			if uerr := c.updateStatus(ctx, d); uerr != nil {
				return nil, uerr
			}
			return nil, fmt.Errorf("replica set name %s taken by another template: %w", rs.Name, err)
		}
		created, existed = found, true
	case err != nil:
		msg := fmt.Sprintf("Failed to create new replica set %q: %v", rs.Name, err)
		if hasProgressDeadline(d) && !apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionFalse, reasonRSCreateError, msg, c.clock.Now()))
			_ = c.updateStatus(ctx, d) // the create error below is what matters
		}
		c.recorder.Eventf(d, nil, corev1.EventTypeWarning, reasonFailedRSCreateEvt, "Create", msg)
		return nil, fmt.Errorf("create replica set %s/%s: %w", rs.Namespace, rs.Name, err)
	}
	if !existed && size > 0 {
		c.recorder.Eventf(d, nil, corev1.EventTypeNormal, "ScalingReplicaSet", "Scale",
			"Scaled up replica set %s from 0 to %d", created.Name, size)
	}
	if err := c.setRevision(ctx, d, strconv.FormatInt(next, 10)); err != nil {
		return nil, err
	}
	if !existed && hasProgressDeadline(d) {
		setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, reasonNewRSCreated,
			fmt.Sprintf("Created new replica set %q", created.Name), c.clock.Now()))
		if err := c.updateStatus(ctx, d); err != nil {
			return nil, err
		}
	}
	return created, nil
}

// existingNewReplicaSet returns the ReplicaSet named name when it is d's
// and runs d's template: created by an earlier sync the cache has not
// shown yet.
func (c *Controller) existingNewReplicaSet(ctx context.Context, d *appsv1.Deployment, name string) (*appsv1.ReplicaSet, bool) {
	rs, err := c.rsLister.ReplicaSets(d.Namespace).Get(name)
	if err != nil {
		rs, err = c.client.AppsV1().ReplicaSets(d.Namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, false
		}
	}
	ref := metav1.GetControllerOfNoCopy(rs)
	if ref == nil || ref.UID != d.UID || !equalIgnoreHash(&rs.Spec.Template, &d.Spec.Template) {
		return nil, false
	}
	return rs.DeepCopy(), true
}

// setRevision records rev as d's revision annotation. It patches only
// metadata, so it neither conflicts with nor bumps the spec.
func (c *Controller) setRevision(ctx context.Context, d *appsv1.Deployment, rev string) error {
	if rev == "" || d.Annotations[revisionAnnotation] == rev {
		return nil
	}
	patch := mustJSON(map[string]any{"metadata": map[string]any{"annotations": map[string]string{revisionAnnotation: rev}}})
	patched, err := c.client.AppsV1().Deployments(d.Namespace).Patch(ctx, d.Name, types.MergePatchType, patch, metav1.PatchOptions{})
	if err != nil {
		return fmt.Errorf("set revision of deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	d.Annotations = patched.Annotations
	d.ResourceVersion = patched.ResourceVersion
	return nil
}
