package replicaset

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tugcluster/tug/internal/controller"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// podSet is the pods a sync found for one replica controller.
type podSet struct {
	// active pods are owned, not terminating and not finished: they count
	// towards spec.replicas.
	active []ownedPod
	// terminating counts owned pods being deleted.
	terminating int32
}

// claimPods returns the pods rs controls after adopting matching orphans
// and releasing owned pods whose labels no longer match. Finished and
// terminating pods are never adopted or released. The returned pods belong
// to the cache.
func (c *Controller) claimPods(ctx context.Context, rs *appsv1.ReplicaSet, selector labels.Selector) (podSet, error) {
	set := podSet{active: make([]ownedPod, 0, c.owned.Len(rs.UID))}
	var unmatched []*corev1.Pod
	matcher := selectorMatcher{selector: selector}
	c.owned.Range(rs.UID, func(o *ownedPod) {
		switch {
		case o.Facts.terminating:
			set.terminating++
		case o.Facts.finished:
			// no longer a replica
		case matcher.matches(o):
			set.active = append(set.active, *o)
		default:
			unmatched = append(unmatched, o.Obj)
		}
	})
	orphans := controller.ByIndex[*corev1.Pod](c.podIndex, controller.OwnerIndex, controller.OrphanKey(rs.Namespace))
	var errs []error
	if rs.DeletionTimestamp == nil { // else the garbage collector decides about a dying owner's pods
		for _, pod := range unmatched {
			if err := c.release(ctx, rs, pod); err != nil {
				errs = append(errs, err)
			}
		}
	}
	canAdopt := c.adoptionCheck(ctx, rs)
	for _, pod := range orphans {
		if pod.DeletionTimestamp != nil || finished(pod) || !selector.Matches(labelsOf(pod)) {
			continue
		}
		if err := canAdopt(); err != nil {
			errs = append(errs, err)
			break
		}
		adopted, err := c.adopt(ctx, rs, pod)
		switch {
		case err != nil:
			errs = append(errs, err)
		case adopted != nil:
			set.active = append(set.active, ownedPod{Obj: adopted, Facts: factsOf(adopted, &c.labelForms)})
		}
	}
	return set, errors.Join(errs...)
}

// adoptionCheck returns a function that, on its first call, confirms
// against the API server (not the cache) that rs still exists under the
// same UID and is not being deleted: adopting pods for a dead owner would
// hand them to the garbage collector.
func (c *Controller) adoptionCheck(ctx context.Context, rs *appsv1.ReplicaSet) func() error {
	var checked bool
	var result error
	return func() error {
		if checked {
			return result
		}
		checked = true
		switch live, err := c.kind.getLive(ctx, rs.Namespace, rs.Name); {
		case err != nil:
			result = fmt.Errorf("recheck %s %s/%s before adopting: %w", c.kind.gvk().Kind, rs.Namespace, rs.Name, err)
		case live.GetUID() != rs.UID:
			result = fmt.Errorf("%s %s/%s was replaced (uid %s), not adopting", c.kind.gvk().Kind, rs.Namespace, rs.Name, live.GetUID())
		case live.GetDeletionTimestamp() != nil:
			result = fmt.Errorf("%s %s/%s is being deleted, not adopting", c.kind.gvk().Kind, rs.Namespace, rs.Name)
		}
		return result
	}
}

// adopt makes rs the pod's controller; it returns nil without error when
// the pod is gone.
func (c *Controller) adopt(ctx context.Context, rs *appsv1.ReplicaSet, pod *corev1.Pod) (*corev1.Pod, error) {
	patch, err := json.Marshal(ownerPatch{Metadata: ownerPatchMeta{
		UID:             pod.UID,
		OwnerReferences: []map[string]any{ownerRefMap(controllerRef(rs, c.kind.gvk()))},
	}})
	if err != nil {
		return nil, err
	}
	adopted, err := c.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("adopt pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return adopted, nil
}

// release removes rs's owner reference from the pod.
func (c *Controller) release(ctx context.Context, rs *appsv1.ReplicaSet, pod *corev1.Pod) error {
	patch, err := json.Marshal(ownerPatch{Metadata: ownerPatchMeta{
		UID:             pod.UID,
		OwnerReferences: []map[string]any{{"$patch": "delete", "uid": string(rs.UID)}},
	}})
	if err != nil {
		return err
	}
	_, err = c.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsInvalid(err) {
		// Gone, or the patch no longer applies (the reference is already
		// gone or the pod was replaced): nothing left to release.
		return nil
	}
	if err != nil {
		return fmt.Errorf("release pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}

// ownerPatch is a strategic merge patch of ownerReferences, merged by uid;
// metadata.uid makes it fail rather than touch a same-named replacement.
type ownerPatch struct {
	Metadata ownerPatchMeta `json:"metadata"`
}

type ownerPatchMeta struct {
	OwnerReferences []map[string]any `json:"ownerReferences"`
	UID             types.UID        `json:"uid"`
}

func ownerRefMap(ref metav1.OwnerReference) map[string]any {
	return map[string]any{
		"apiVersion": ref.APIVersion, "kind": ref.Kind, "name": ref.Name, "uid": string(ref.UID),
		"controller": true, "blockOwnerDeletion": true,
	}
}

// controllerRef is the owner reference rs puts on its pods.
func controllerRef(rs *appsv1.ReplicaSet, gvk schema.GroupVersionKind) metav1.OwnerReference {
	return metav1.OwnerReference{
		APIVersion: gvk.GroupVersion().String(), Kind: gvk.Kind, Name: rs.Name, UID: rs.UID,
		Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
	}
}

// finished reports whether the pod ran to completion or failed; such pods
// no longer count as replicas.
func finished(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
}
