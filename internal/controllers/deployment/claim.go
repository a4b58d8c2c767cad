package deployment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/controller"
)

// claimReplicaSets returns private copies of the ReplicaSets d controls,
// after adopting matching orphans and releasing those whose labels no
// longer match its selector.
func (c *Controller) claimReplicaSets(ctx context.Context, d *appsv1.Deployment, selector labels.Selector) ([]*appsv1.ReplicaSet, error) {
	owned := controller.Owned[*appsv1.ReplicaSet](c.rsIndex, d.UID)
	orphans := controller.ByIndex[*appsv1.ReplicaSet](c.rsIndex, controller.OwnerIndex, controller.OrphanKey(d.Namespace))
	var out []*appsv1.ReplicaSet
	var errs []error
	for _, rs := range owned {
		if selector.Matches(labels.Set(rs.Labels)) || d.DeletionTimestamp != nil {
			out = append(out, rs.DeepCopy())
			continue
		}
		if err := c.patchOwner(ctx, rs, releasePatch(d.UID, rs.UID)); err != nil {
			errs = append(errs, fmt.Errorf("release replica set %s/%s: %w", rs.Namespace, rs.Name, err))
		}
	}
	checked := false
	for _, rs := range orphans {
		if rs.DeletionTimestamp != nil || d.DeletionTimestamp != nil || !selector.Matches(labels.Set(rs.Labels)) {
			continue
		}
		if !checked {
			// Confirm with the API server, not the cache, that d is alive:
			// adopting for a dead owner hands the ReplicaSet to the
			// garbage collector.
			live, err := c.client.AppsV1().Deployments(d.Namespace).Get(ctx, d.Name, metav1.GetOptions{})
			if err != nil {
				errs = append(errs, fmt.Errorf("recheck deployment %s/%s before adopting: %w", d.Namespace, d.Name, err))
				break
			}
			if live.UID != d.UID || live.DeletionTimestamp != nil {
				break // replaced or dying: a later sync sees it
			}
			checked = true
		}
		if err := c.patchOwner(ctx, rs, adoptPatch(d, rs.UID)); err != nil {
			errs = append(errs, fmt.Errorf("adopt replica set %s/%s: %w", rs.Namespace, rs.Name, err))
			continue
		}
		copied := rs.DeepCopy()
		copied.OwnerReferences = append(copied.OwnerReferences, ownerRef(d))
		out = append(out, copied)
	}
	return out, errors.Join(errs...)
}

func (c *Controller) patchOwner(ctx context.Context, rs *appsv1.ReplicaSet, patch []byte) error {
	_, err := c.client.AppsV1().ReplicaSets(rs.Namespace).Patch(ctx, rs.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// ownerRef is the controller reference d puts on its ReplicaSets.
func ownerRef(d *appsv1.Deployment) metav1.OwnerReference {
	return metav1.OwnerReference{
		APIVersion: appsv1.SchemeGroupVersion.String(), Kind: "Deployment", Name: d.Name, UID: d.UID,
		Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
	}
}

// adoptPatch and releasePatch are strategic merge patches of
// ownerReferences (merged by uid); metadata.uid pins the target object.
func adoptPatch(d *appsv1.Deployment, uid types.UID) []byte {
	ref := ownerRef(d)
	return mustJSON(map[string]any{"metadata": map[string]any{
		"uid": uid,
		"ownerReferences": []map[string]any{{
			"apiVersion": ref.APIVersion, "kind": ref.Kind, "name": ref.Name, "uid": ref.UID,
			"controller": true, "blockOwnerDeletion": true,
		}},
	}})
}

func releasePatch(owner, uid types.UID) []byte {
	return mustJSON(map[string]any{"metadata": map[string]any{
		"uid":             uid,
		"ownerReferences": []map[string]any{{"$patch": "delete", "uid": owner}},
	}})
}

// mustJSON marshals maps of strings and bools, which cannot fail.
func mustJSON(v any) []byte {
	data, _ := json.Marshal(v)
	return data
}
