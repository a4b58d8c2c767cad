package admission

import (
	"context"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"

	"github.com/tugcluster/tug/internal/quota"
)

// quotaChargeAttempts bounds how often a charge is retried when another
// request charged the same quota first.
const quotaChargeAttempts = 10

// ResourceQuota refuses writes that would take a namespace over one of its
// ResourceQuotas and charges the quotas for those it lets through: it
// writes the new status.used, guarded by the quota's resourceVersion,
// before the object is stored, so two requests racing for the last unit
// cannot both pass. The resource quota controller later recomputes
// status.used from what is actually stored, which returns charges for
// writes that failed after admission.
//
// It checks against status.hard, as Kubernetes does: a quota the
// controller has not yet seen constrains nothing, and one whose usage is
// not yet known refuses the writes it would constrain.
type ResourceQuota struct {
	// List returns the quotas of a namespace: from the API server's cache
	// (possibly a moment behind, as upstream's informer is) unless fresh
	// asks for a consistent read, which a charge that met a conflict does.
	List func(ctx context.Context, namespace string, fresh bool) ([]corev1.ResourceQuota, error)
	// UpdateStatus stores q's status if q's resourceVersion is still the
	// stored one, else returns a Conflict error.
	UpdateStatus func(ctx context.Context, q *corev1.ResourceQuota) error
	// Clock decides whether a deleted pod still counts. Default the real
	// clock.
	Clock clock.PassiveClock
}

var _ Plugin = ResourceQuota{}

// Admit implements Plugin. Creates are charged in full; updates (when the
// API server admits them) only by what grew.
func (p ResourceQuota) Admit(ctx context.Context, a *Attributes) error {
	// Of the subresources only pods/resize changes what an object uses.
	resize := a.Subresource == "resize" && a.Resource.GroupResource() == quota.Pods
	if (a.Subresource != "" && !resize) || a.Namespace == "" || a.Object == nil {
		return nil
	}
	if a.Operation == Update && a.Resource.GroupResource() != quota.Pods && a.Resource.GroupResource() != quota.PersistentVolumeClaims {
		return nil // only pods and claims change what they use in place
	}
	// Most namespaces have no quota: then there is nothing to evaluate,
	// and this runs on every write.
	quotas, err := p.List(ctx, a.Namespace, false)
	if err != nil || len(quotas) == 0 {
		return err
	}
	now := p.now()
	gr := a.Resource.GroupResource()
	delta := quota.Usage(gr, a.Object, now)
	if a.Operation == Update {
		if a.Old == nil {
			return nil
		}
		delta = quota.SubtractFloor(delta, quota.Usage(gr, a.Old, now))
	}
	if neg := quota.Negative(delta); len(neg) > 0 {
		return p.forbid(a, fmt.Errorf("quota usage is negative for resource(s): %s", quota.FormatNames(neg)))
	}
	delta = quota.RemoveZeros(delta)
	done := map[types.UID]bool{} // quotas charged by an earlier attempt
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			// The charge met a conflict: evaluate fresh copies.
			if quotas, err = p.List(ctx, a.Namespace, true); err != nil {
				return err
			}
		}
		charged, err := p.check(a, gr, quotas, delta, done)
		if err != nil || len(charged) == 0 || a.DryRun {
			return err // a dry run is checked, never charged
		}
		err = p.charge(ctx, charged, done)
		if err == nil {
			return nil
		}
		if !apierrors.IsConflict(err) || attempt+1 >= quotaChargeAttempts {
			return apierrors.NewInternalError(fmt.Errorf("charge resource quota: %w", err))
		}
	}
}

func (p ResourceQuota) now() time.Time {
	if p.Clock == nil {
		return time.Now()
	}
	return p.Clock.Now()
}

// check evaluates the object against every quota of its namespace and
// returns the quotas it must be charged to, with their new status.used.
func (p ResourceQuota) check(a *Attributes, gr schema.GroupResource, quotas []corev1.ResourceQuota, delta corev1.ResourceList,
	done map[types.UID]bool) ([]*corev1.ResourceQuota, error) {
	sort.Slice(quotas, func(i, j int) bool { return quotas[i].Name < quotas[j].Name })
	type match struct {
		q          *corev1.ResourceQuota
		restricted []corev1.ResourceName
	}
	var matched []match
	for i := range quotas {
		q := &quotas[i]
		restricted := restrictedFor(gr, q.Status.Hard)
		if len(restricted) == 0 || done[q.UID] || !quota.Matches(quota.Selectors(&q.Spec), gr, a.Object) {
			continue
		}
		if pod, ok := a.Object.(*corev1.Pod); ok && gr == quota.Pods && a.Operation == Create {
			if err := quota.PodConstraints(restricted, pod); err != nil {
				return nil, p.forbid(a, fmt.Errorf("failed quota: %s: %w", q.Name, err))
			}
		}
		for _, name := range restricted {
			if _, ok := q.Status.Used[name]; !ok {
				return nil, p.forbid(a, fmt.Errorf("status unknown for quota: %s, resources: %s", q.Name, quota.FormatNames(restricted)))
			}
		}
		matched = append(matched, match{q, restricted})
	}
	if len(delta) == 0 {
		return nil, nil
	}
	var charged []*corev1.ResourceQuota
	for _, m := range matched {
		requested := quota.Mask(delta, m.restricted)
		if len(requested) == 0 {
			continue
		}
		used := quota.Add(m.q.Status.Used, requested)
		if exceeded := quota.Exceeded(quota.Mask(used, quota.Names(requested)), m.q.Status.Hard); len(exceeded) > 0 {
			return nil, p.forbid(a, fmt.Errorf("exceeded quota: %s, requested: %s, used: %s, limited: %s", m.q.Name,
				quota.Format(quota.Mask(requested, exceeded)), quota.Format(quota.Mask(m.q.Status.Used, exceeded)),
				quota.Format(quota.Mask(m.q.Status.Hard, exceeded))))
		}
		q := m.q.DeepCopy()
		q.Status.Used = used
		charged = append(charged, q)
	}
	return charged, nil
}

// restrictedFor returns the resources of hard that objects of gr charge.
func restrictedFor(gr schema.GroupResource, hard corev1.ResourceList) []corev1.ResourceName {
	var out []corev1.ResourceName
	for _, name := range quota.Names(hard) {
		if r, ok := quota.ResourceOf(name); ok && r == gr {
			out = append(out, name)
		}
	}
	return out
}

// charge writes the quotas' new usage and records them in done. A
// conflict sends the request back to evaluation against fresh copies of
// the quotas not yet charged. Should a later quota then refuse, the
// charges already written stay: an overcount the controller returns, never
// an undercount.
func (p ResourceQuota) charge(ctx context.Context, quotas []*corev1.ResourceQuota, done map[types.UID]bool) error {
	for _, q := range quotas {
		if err := p.UpdateStatus(ctx, q); err != nil {
			return err
		}
		done[q.UID] = true
	}
	return nil
}

// forbid builds the 403 Kubernetes answers with, naming the object by its
// name, else its generateName (no name is generated yet).
func (p ResourceQuota) forbid(a *Attributes, err error) error {
	name := ""
	if accessor, aerr := meta.Accessor(a.Object); aerr == nil {
		name = accessor.GetName()
		if name == "" {
			name = accessor.GetGenerateName()
		}
	}
	return apierrors.NewForbidden(a.Resource.GroupResource(), name, err)
}
