package disruption

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// DisruptedPodTimeout is how long an entry of status.disruptedPods (a pod
// the eviction API let go) keeps the pod out of the healthy count while
// it is not yet deleted.
const DisruptedPodTimeout = 2 * time.Minute

// Counts are the numbers a budget's status is computed from.
type Counts struct {
	// Expected is how many pods there should be: the sum of the scales of
	// the pods' controllers, or the number of pods for an integer
	// minAvailable.
	Expected int32
	// Desired is how many must stay healthy.
	Desired int32
}

// Desired resolves minAvailable or maxUnavailable. pods is the number of
// matching pods; scale returns the pods the controllers want and is only
// called when a percentage or maxUnavailable needs it.
func Desired(spec policyv1.PodDisruptionBudgetSpec, pods int32, scale func() (int32, error)) (Counts, error) {
	switch {
	case spec.MaxUnavailable != nil:
		expected, err := scale()
		if err != nil {
			return Counts{}, err
		}
		unavailable, err := intstr.GetScaledValueFromIntOrPercent(spec.MaxUnavailable, int(expected), true)
		if err != nil {
			return Counts{}, fmt.Errorf("maxUnavailable: %w", err)
		}
		return Counts{Expected: expected, Desired: max(0, expected-int32(unavailable))}, nil
	case spec.MinAvailable != nil && spec.MinAvailable.Type == intstr.Int:
		return Counts{Expected: pods, Desired: spec.MinAvailable.IntVal}, nil
	case spec.MinAvailable != nil:
		expected, err := scale()
		if err != nil {
			return Counts{}, err
		}
		available, err := intstr.GetScaledValueFromIntOrPercent(spec.MinAvailable, int(expected), true)
		if err != nil {
			return Counts{}, fmt.Errorf("minAvailable: %w", err)
		}
		return Counts{Expected: expected, Desired: int32(available)}, nil
	default:
		// Neither set: the API defaults minAvailable to 1.
		return Counts{Expected: pods, Desired: 1}, nil
	}
}

// Healthy counts the pods that are Ready, not being deleted and not
// recently let go by the eviction API. It returns the disruptedPods
// entries still in force and when the first of them expires (zero when
// none).
func Healthy(pods []*corev1.Pod, disrupted map[string]metav1.Time, now time.Time) (healthy int32, kept map[string]metav1.Time, next time.Time) {
	for _, pod := range pods {
		if pod.DeletionTimestamp != nil {
			continue
		}
		if at, ok := disrupted[pod.Name]; ok {
			expires := at.Add(DisruptedPodTimeout)
			if expires.After(now) {
				if kept == nil {
					kept = map[string]metav1.Time{}
				}
				kept[pod.Name] = at
				if next.IsZero() || expires.Before(next) {
					next = expires
				}
				continue
			}
		}
		if podReady(pod) {
			healthy++
		}
	}
	return healthy, kept, next
}

// Allowed is how many pods may be disrupted now.
func Allowed(c Counts, healthy int32) int32 {
	if c.Expected <= 0 || healthy <= c.Desired {
		return 0
	}
	return healthy - c.Desired
}

// Status is the budget's new status given its counts; it keeps condition
// transition times when nothing changes.
func Status(pdb *policyv1.PodDisruptionBudget, c Counts, healthy int32, disrupted map[string]metav1.Time, now time.Time) policyv1.PodDisruptionBudgetStatus {
	st := *pdb.Status.DeepCopy()
	st.ObservedGeneration = pdb.Generation
	st.ExpectedPods = c.Expected
	st.DesiredHealthy = c.Desired
	st.CurrentHealthy = healthy
	st.DisruptionsAllowed = Allowed(c, healthy)
	st.DisruptedPods = disrupted
	cond := metav1.Condition{Type: policyv1.DisruptionAllowedCondition, Status: metav1.ConditionTrue,
		Reason: policyv1.SufficientPodsReason}
	if st.DisruptionsAllowed == 0 {
		cond.Status, cond.Reason = metav1.ConditionFalse, policyv1.InsufficientPodsReason
	}
	setCondition(&st, cond, pdb.Generation, now)
	return st
}

// FailedStatus is the status of a budget that could not be computed: no
// disruptions are allowed.
func FailedStatus(pdb *policyv1.PodDisruptionBudget, err error, now time.Time) policyv1.PodDisruptionBudgetStatus {
	st := *pdb.Status.DeepCopy()
	st.ObservedGeneration = pdb.Generation
	st.DisruptionsAllowed = 0
	setCondition(&st, metav1.Condition{Type: policyv1.DisruptionAllowedCondition, Status: metav1.ConditionFalse,
		Reason: policyv1.SyncFailedReason, Message: err.Error()}, pdb.Generation, now)
	return st
}

func setCondition(st *policyv1.PodDisruptionBudgetStatus, cond metav1.Condition, generation int64, now time.Time) {
	cond.ObservedGeneration = generation
	cond.LastTransitionTime = metav1.NewTime(now)
	for i := range st.Conditions {
		if st.Conditions[i].Type != cond.Type {
			continue
		}
		if st.Conditions[i].Status == cond.Status {
			cond.LastTransitionTime = st.Conditions[i].LastTransitionTime
		}
		st.Conditions[i] = cond
		return
	}
	st.Conditions = append(st.Conditions, cond)
}

func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
