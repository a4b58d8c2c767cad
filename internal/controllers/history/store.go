package history

import (
	"context"
	"errors"
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/kubernetes"
)

// ErrCollision is returned by Ensure when another object already has the
// name the template hashes to; the caller stores the raised collision
// count in its status and tries again.
var ErrCollision = errors.New("controller revision name collision")

// Owner is what a revision records about the workload it belongs to.
type Owner struct {
	// Ref is the controller reference put on revisions.
	Ref metav1.OwnerReference
	// Namespace holds the revisions.
	Namespace string
	// Template is the current pod template.
	Template *corev1.PodTemplateSpec
	// CollisionCount is the owner's status.collisionCount.
	CollisionCount int32
}

// Ensure returns the revision of owner's current template. An existing
// revision with the same template becomes the newest (a rollback reuses
// the old revision rather than making a new one); otherwise a new revision
// numbered after the newest is created. revisions are the owner's
// revisions; they are not mutated. On a name collision it returns the
// raised collision count with ErrCollision.
func Ensure(ctx context.Context, client kubernetes.Interface, owner Owner, revisions []*appsv1.ControllerRevision) (*appsv1.ControllerRevision, int32, error) {
	data, err := Data(owner.Template)
	if err != nil {
		return nil, owner.CollisionCount, err
	}
	hash := Hash(data.Raw, &owner.CollisionCount)
	want := &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{
			Name: Name(owner.Ref.Name, hash), Namespace: owner.Namespace,
			Labels:          withLabel(owner.Template.Labels, HashLabel, hash),
			OwnerReferences: []metav1.OwnerReference{owner.Ref},
		},
		Data:     data,
		Revision: MaxRevision(revisions) + 1,
	}
	for _, rev := range revisions {
		if !SameData(rev, want) {
			continue
		}
		if rev.Revision == MaxRevision(revisions) {
			return rev, owner.CollisionCount, nil
		}
		renumbered := rev.DeepCopy()
		renumbered.Revision = want.Revision
		updated, err := client.AppsV1().ControllerRevisions(owner.Namespace).Update(ctx, renumbered, metav1.UpdateOptions{})
		if err != nil {
			return nil, owner.CollisionCount, fmt.Errorf("renumber controller revision %s: %w", rev.Name, err)
		}
		return updated, owner.CollisionCount, nil
	}
	created, err := client.AppsV1().ControllerRevisions(owner.Namespace).Create(ctx, want, metav1.CreateOptions{})
	if err == nil {
		return created, owner.CollisionCount, nil
	}
	if !apierrors.IsAlreadyExists(err) {
		return nil, owner.CollisionCount, fmt.Errorf("create controller revision %s: %w", want.Name, err)
	}
	live, getErr := client.AppsV1().ControllerRevisions(owner.Namespace).Get(ctx, want.Name, metav1.GetOptions{})
	if getErr != nil {
		return nil, owner.CollisionCount, fmt.Errorf("read controller revision %s: %w", want.Name, getErr)
	}
	if ref := metav1.GetControllerOf(live); ref != nil && ref.UID == owner.Ref.UID && SameData(live, want) {
		return live, owner.CollisionCount, nil // made by an earlier sync the cache has not shown yet
	}
	return nil, owner.CollisionCount + 1, ErrCollision
}

// MaxRevision is the highest revision number among revisions, 0 if none.
func MaxRevision(revisions []*appsv1.ControllerRevision) int64 {
	var highest int64
	for _, r := range revisions {
		highest = max(highest, r.Revision)
	}
	return highest
}

// Sorted returns revisions oldest first (by number, then name).
func Sorted(revisions []*appsv1.ControllerRevision) []*appsv1.ControllerRevision {
	out := slices.Clone(revisions)
	slices.SortFunc(out, func(a, b *appsv1.ControllerRevision) int {
		if a.Revision != b.Revision {
			if a.Revision < b.Revision {
				return -1
			}
			return 1
		}
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return out
}

// ToPrune returns the oldest revisions not named in live beyond the newest
// limit of them: the history revisionHistoryLimit lets go.
func ToPrune(revisions []*appsv1.ControllerRevision, live sets.Set[string], limit int32) []*appsv1.ControllerRevision {
	var old []*appsv1.ControllerRevision
	for _, r := range Sorted(revisions) {
		if !live.Has(r.Name) {
			old = append(old, r)
		}
	}
	n := len(old) - int(max(limit, 0))
	if n <= 0 {
		return nil
	}
	return old[:n]
}

// Prune deletes the revisions ToPrune picks.
func Prune(ctx context.Context, client kubernetes.Interface, revisions []*appsv1.ControllerRevision, live sets.Set[string], limit int32) error {
	var errs []error
	for _, r := range ToPrune(revisions, live, limit) {
		err := client.AppsV1().ControllerRevisions(r.Namespace).Delete(ctx, r.Name, metav1.DeleteOptions{
			Preconditions: &metav1.Preconditions{UID: &r.UID},
		})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			errs = append(errs, fmt.Errorf("delete controller revision %s: %w", r.Name, err))
		}
	}
	return errors.Join(errs...)
}
