package deployment

import (
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// desired is the deployment's spec.replicas, defaulted.
func desired(d *appsv1.Deployment) int32 {
	if d.Spec.Replicas == nil {
		return 1
	}
	return *d.Spec.Replicas
}

func isRollingUpdate(d *appsv1.Deployment) bool {
	return d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType
}

// fenceposts resolves maxSurge and maxUnavailable against replicas: a
// percentage of surge rounds up and of unavailability rounds down, so that
// a rollout can always move. When both come out zero, one pod may be
// unavailable, else the rollout could never start.
func fenceposts(surge, unavailable *intstr.IntOrString, replicas int32) (int32, int32) {
	s := scaled(surge, replicas, true)
	u := scaled(unavailable, replicas, false)
	if s == 0 && u == 0 {
		u = 1
	}
	return s, u
}

// scaled resolves an int-or-percent; a value the API server would not
// accept counts as 0 (validation keeps such values out).
func scaled(v *intstr.IntOrString, total int32, roundUp bool) int32 {
	if v == nil {
		return 0
	}
	n, err := intstr.GetScaledValueFromIntOrPercent(v, int(total), roundUp)
	if err != nil || n < 0 {
		return 0
	}
	return int32(n)
}

// maxSurge is how many pods a rolling update may run above spec.replicas;
// 0 for Recreate.
func maxSurge(d *appsv1.Deployment) int32 {
	if !isRollingUpdate(d) || d.Spec.Strategy.RollingUpdate == nil {
		return 0
	}
	ru := d.Spec.Strategy.RollingUpdate
	s, _ := fenceposts(ru.MaxSurge, ru.MaxUnavailable, desired(d))
	return s
}

// maxUnavailable is how many of spec.replicas may be unavailable during a
// rolling update, at most all of them; 0 for Recreate or no replicas.
func maxUnavailable(d *appsv1.Deployment) int32 {
	if !isRollingUpdate(d) || d.Spec.Strategy.RollingUpdate == nil || desired(d) == 0 {
		return 0
	}
	ru := d.Spec.Strategy.RollingUpdate
	_, u := fenceposts(ru.MaxSurge, ru.MaxUnavailable, desired(d))
	return min(u, desired(d))
}
