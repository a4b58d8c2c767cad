package job

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// claimPods adopts the orphan pods of the job's namespace that its
// selector matches and releases the pods it controls that the selector no
// longer matches, as the Job controller does; terminating pods are left
// alone. It reports whether anything changed (the cache then catches up
// and brings the job back).
func (c *Controller) claimPods(ctx context.Context, job *batchv1.Job) (bool, error) {
	selector, err := metav1.LabelSelectorAsSelector(job.Spec.Selector)
	if err != nil || selector.Empty() {
		return false, nil //nolint:nilerr // an invalid or empty selector claims nothing
	}
	pods, err := c.pods.Pods(job.Namespace).List(labels.Everything())
	if err != nil {
		return false, err
	}
	var adopt, release []*corev1.Pod
	for _, pod := range pods {
		if pod.DeletionTimestamp != nil {
			continue
		}
		ref := metav1.GetControllerOf(pod)
		matches := selector.Matches(labels.Set(pod.Labels))
		switch {
		case ref == nil && matches:
			adopt = append(adopt, pod)
		case ref != nil && ref.UID == job.UID && !matches:
			release = append(release, pod)
		}
	}
	if len(adopt) > 0 {
		// The cache may be behind: adopt only for a job that still lives.
		live, err := c.client.BatchV1().Jobs(job.Namespace).Get(ctx, job.Name, metav1.GetOptions{})
		switch {
		case err != nil:
			return false, fmt.Errorf("recheck job before adopting: %w", err)
		case live.UID != job.UID || live.DeletionTimestamp != nil:
			adopt = nil
		}
	}
	var errs []error
	for _, pod := range adopt {
		ref := metav1.NewControllerRef(job, batchv1.SchemeGroupVersion.WithKind("Job"))
		errs = append(errs, c.patchOwner(ctx, pod, map[string]any{
			"apiVersion": ref.APIVersion, "kind": ref.Kind, "name": ref.Name, "uid": string(ref.UID),
			"controller": true, "blockOwnerDeletion": true,
		}))
	}
	for _, pod := range release {
		errs = append(errs, c.patchOwner(ctx, pod, map[string]any{"$patch": "delete", "uid": string(job.UID)}))
	}
	return len(adopt)+len(release) > 0, errors.Join(errs...)
}

// patchOwner applies one owner-reference change to pod, merged by uid;
// the pod's own uid in the patch keeps it off a same-named replacement.
func (c *Controller) patchOwner(ctx context.Context, pod *corev1.Pod, ref map[string]any) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"uid": pod.UID, "ownerReferences": []map[string]any{ref},
	}})
	if err != nil {
		return err
	}
	_, err = c.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsInvalid(err) || apierrors.IsConflict(err) {
		return nil // gone or replaced: nothing to claim
	}
	if err != nil {
		return fmt.Errorf("claim pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}

// enqueueClaimers enqueues the jobs of the pod's namespace whose selector
// matches an orphan pod: one of them adopts it.
func (c *Controller) enqueueClaimers(pod *corev1.Pod) {
	if pod.DeletionTimestamp != nil || metav1.GetControllerOf(pod) != nil {
		return
	}
	jobs, err := c.jobs.Jobs(pod.Namespace).List(labels.Everything())
	if err != nil {
		return
	}
	for _, job := range jobs {
		selector, err := metav1.LabelSelectorAsSelector(job.Spec.Selector)
		if err == nil && !selector.Empty() && selector.Matches(labels.Set(pod.Labels)) {
			c.loop.EnqueueObject(job)
		}
	}
}
