package registry

import (
	"context"
	"fmt"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tugcluster/tug/internal/storage"
)

// DeletionHolder is implemented by strategies whose objects carry their
// own deletion gate besides metadata.finalizers, as namespaces do with
// spec.finalizers.
type DeletionHolder interface {
	// HoldsDeletion reports whether obj must stay after a delete request.
	HoldsDeletion(obj runtime.Object) bool
	// MarkDeleting records in obj that it is being deleted, e.g. a
	// Terminating phase.
	MarkDeleting(obj runtime.Object)
}

// Finalizers the garbage collector acts on.
const (
	FinalizerOrphan     = metav1.FinalizerOrphanDependents
	FinalizerForeground = metav1.FinalizerDeleteDependents
)

// GracefulDeleter is implemented by strategies whose objects linger after a
// delete request, as pods on a node do until the kubelet confirms.
type GracefulDeleter interface {
	// GracePeriod returns how long obj may take to go away, or 0 to remove
	// it at once.
	GracePeriod(obj runtime.Object, opts *metav1.DeleteOptions) int64
}

// Delete removes an object, or marks it for deletion when finalizers or a
// grace period hold it. It returns the object and whether it is gone.
func (s *Store) Delete(ctx context.Context, namespace, name string, opts *metav1.DeleteOptions) (runtime.Object, bool, error) {
	if opts == nil {
		opts = &metav1.DeleteOptions{}
	}
	key := s.Key(namespace, name)
	current := s.Resource.New()
	if err := s.Storage.Get(ctx, key, storage.GetOptions{}, current); err != nil {
		return nil, false, interpretError(err, s.GroupResource(), name)
	}
	var pre *storage.Preconditions
	if p := opts.Preconditions; p != nil {
		pre = &storage.Preconditions{UID: p.UID, ResourceVersion: p.ResourceVersion}
		if err := pre.Check(key, current); err != nil {
			return nil, false, interpretError(err, s.GroupResource(), name)
		}
	}
	accessor, err := ObjectMeta(current)
	if err != nil {
		return nil, false, err
	}
	var grace int64
	if g, ok := s.Strategy.(GracefulDeleter); ok {
		grace = g.GracePeriod(current, opts)
	}
	finalizer, err := propagationFinalizer(opts)
	if err != nil {
		return nil, false, err
	}
	held := s.holdsDeletion(current)
	if IsDryRun(opts.DryRun) {
		return current, len(accessor.GetFinalizers()) == 0 && grace == 0 && finalizer == "" && !held, nil
	}
	if len(accessor.GetFinalizers()) > 0 || grace > 0 || finalizer != "" || held {
		return s.markDeleting(ctx, namespace, name, grace, finalizer, pre)
	}
	out := s.Resource.New()
	if err := s.Storage.Delete(ctx, key, out, pre, nil, nil); err != nil {
		return nil, false, interpretError(err, s.GroupResource(), name)
	}
	s.committed(nil, out)
	return out, true, nil
}

// markDeleting sets deletionTimestamp (now plus grace) and the grace period,
// leaving the object to its finalizers or its node.
func (s *Store) markDeleting(ctx context.Context, namespace, name string, grace int64, finalizer string, pre *storage.Preconditions) (runtime.Object, bool, error) {
	out := s.Resource.New()
	err := s.Storage.GuaranteedUpdate(ctx, s.Key(namespace, name), out, false, pre,
		func(input runtime.Object, _ storage.ResponseMeta) (runtime.Object, *uint64, error) {
			accessor, err := ObjectMeta(input)
			if err != nil {
				return nil, nil, err
			}
			old := accessor.GetDeletionGracePeriodSeconds()
			// A first deletion, or a shorter grace period replacing a
			// longer one, sets the deadline.
			if accessor.GetDeletionTimestamp() == nil || old == nil || grace < *old {
				at := metav1.NewTime(s.now().Add(time.Duration(grace) * time.Second))
				accessor.SetDeletionTimestamp(&at)
				accessor.SetDeletionGracePeriodSeconds(&grace)
				// A graceful deletion is a change of the desired state:
				// objects that count generations count it, as upstream.
				if grace > 0 && accessor.GetGeneration() > 0 {
					accessor.SetGeneration(accessor.GetGeneration() + 1)
				}
			}
			if finalizer != "" && !slices.Contains(accessor.GetFinalizers(), finalizer) {
				accessor.SetFinalizers(append(accessor.GetFinalizers(), finalizer))
			}
			if h, ok := s.Strategy.(DeletionHolder); ok {
				h.MarkDeleting(input)
			}
			return input, nil, nil
		}, nil)
	if err != nil {
		return nil, false, interpretError(err, s.GroupResource(), name)
	}
	return out, false, nil
}

// holdsDeletion reports whether the strategy keeps obj after a delete.
func (s *Store) holdsDeletion(obj runtime.Object) bool {
	h, ok := s.Strategy.(DeletionHolder)
	return ok && h.HoldsDeletion(obj)
}

// propagationFinalizer maps a propagation policy to the finalizer that
// hands the object to the garbage collector ("" for background).
func propagationFinalizer(opts *metav1.DeleteOptions) (string, error) {
	policy := opts.PropagationPolicy
	//nolint:staticcheck // SA1019: old clients still send orphanDependents
	if orphan := opts.OrphanDependents; policy == nil && orphan != nil {
		if *orphan {
			return FinalizerOrphan, nil
		}
		return "", nil
	}
	if policy == nil {
		return "", nil
	}
	switch *policy {
	case metav1.DeletePropagationBackground:
		return "", nil
	case metav1.DeletePropagationOrphan:
		return FinalizerOrphan, nil
	case metav1.DeletePropagationForeground:
		return FinalizerForeground, nil
	}
	return "", apierrors.NewBadRequest(fmt.Sprintf("unsupported propagationPolicy %q", *policy))
}

// DeleteCollection deletes every object of a namespace that matches
// listOpts and returns the list of what it deleted or marked.
func (s *Store) DeleteCollection(ctx context.Context, namespace string, opts *metav1.DeleteOptions, listOpts *metav1.ListOptions) (runtime.Object, error) {
	list, err := s.List(ctx, namespace, listOpts)
	if err != nil {
		return nil, err
	}
	items, err := metaExtractList(list)
	if err != nil {
		return nil, err
	}
	var deleted []runtime.Object
	for _, item := range items {
		accessor, err := ObjectMeta(item)
		if err != nil {
			return nil, err
		}
		obj, _, err := s.Delete(ctx, accessor.GetNamespace(), accessor.GetName(), opts)
		if err != nil {
			if isNotFound(err) {
				continue
			}
			return nil, err
		}
		deleted = append(deleted, obj)
	}
	out := s.Resource.NewList()
	if err := metaSetList(out, deleted); err != nil {
		return nil, err
	}
	return out, nil
}
