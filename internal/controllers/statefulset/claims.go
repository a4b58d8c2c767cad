package statefulset

import (
	"context"
	"errors"
	"fmt"
	"maps"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// newClaim builds the claim of template for ordinal. Under the whenDeleted
// Delete policy the set owns it, so the garbage collector removes it with
// the set; otherwise it outlives the set.
func newClaim(set *appsv1.StatefulSet, template *corev1.PersistentVolumeClaim, ordinal int) *corev1.PersistentVolumeClaim {
	claim := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{
			Name: claimName(set, template.Name, ordinal), Namespace: set.Namespace,
			Labels: maps.Clone(template.Labels), Annotations: maps.Clone(template.Annotations),
		},
		Spec: *template.Spec.DeepCopy(),
	}
	if set.Spec.Selector != nil && len(set.Spec.Selector.MatchLabels) > 0 {
		if claim.Labels == nil {
			claim.Labels = map[string]string{}
		}
		maps.Copy(claim.Labels, set.Spec.Selector.MatchLabels)
	}
	if p := set.Spec.PersistentVolumeClaimRetentionPolicy; p != nil && p.WhenDeleted == appsv1.DeletePersistentVolumeClaimRetentionPolicyType {
		claim.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(set, controllerKind)}
	}
	return claim
}

// ensureClaims creates the missing claims of ordinal's pod.
func (c *Controller) ensureClaims(ctx context.Context, set *appsv1.StatefulSet, ordinal int) error {
	var errs []error
	for i := range set.Spec.VolumeClaimTemplates {
		claim := newClaim(set, &set.Spec.VolumeClaimTemplates[i], ordinal)
		_, err := c.claims.PersistentVolumeClaims(set.Namespace).Get(claim.Name)
		if err == nil {
			continue
		}
		if !apierrors.IsNotFound(err) {
			errs = append(errs, err)
			continue
		}
		_, err = c.client.CoreV1().PersistentVolumeClaims(set.Namespace).Create(ctx, claim, metav1.CreateOptions{})
		switch {
		case err == nil:
			c.recorder.Eventf(set, nil, corev1.EventTypeNormal, "SuccessfulCreate", "Create",
				"create Claim %s Pod %s in StatefulSet %s success", claim.Name, podName(set, ordinal), set.Name)
		case apierrors.IsAlreadyExists(err):
		default:
			c.recorder.Eventf(set, nil, corev1.EventTypeWarning, "FailedCreate", "Create",
				"create Claim %s for Pod %s in StatefulSet %s failed error: %s", claim.Name, podName(set, ordinal), set.Name, err)
			errs = append(errs, fmt.Errorf("create claim %s/%s: %w", set.Namespace, claim.Name, err))
		}
	}
	return errors.Join(errs...)
}

// handOverClaims makes the condemned pod an owner of its claims under the
// whenScaled Delete policy, so the garbage collector removes them once the
// pod is gone.
func (c *Controller) handOverClaims(ctx context.Context, set *appsv1.StatefulSet, pod *corev1.Pod, ordinal int) error {
	p := set.Spec.PersistentVolumeClaimRetentionPolicy
	if p == nil || p.WhenScaled != appsv1.DeletePersistentVolumeClaimRetentionPolicyType {
		return nil
	}
	podRef := metav1.OwnerReference{APIVersion: "v1", Kind: "Pod", Name: pod.Name, UID: pod.UID}
	var errs []error
	for _, t := range set.Spec.VolumeClaimTemplates {
		claim, err := c.claims.PersistentVolumeClaims(set.Namespace).Get(claimName(set, t.Name, ordinal))
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		owned := false
		for _, ref := range claim.OwnerReferences {
			owned = owned || ref.UID == pod.UID
		}
		if owned {
			continue
		}
		claim = claim.DeepCopy()
		claim.OwnerReferences = append(claim.OwnerReferences, podRef)
		if _, err := c.client.CoreV1().PersistentVolumeClaims(set.Namespace).Update(ctx, claim, metav1.UpdateOptions{}); err != nil {
			errs = append(errs, fmt.Errorf("hand claim %s/%s to pod %s: %w", set.Namespace, claim.Name, pod.Name, err))
		}
	}
	return errors.Join(errs...)
}
