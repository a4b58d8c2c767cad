package deployment

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// rollingDeployment returns a rolling-update Deployment of replicas with
// the given surge and unavailability.
func rollingDeployment(replicas int32, surge, unavailable intstr.IntOrString) *appsv1.Deployment {
	return &appsv1.Deployment{Spec: appsv1.DeploymentSpec{
		Replicas: ptr.To(replicas),
		Strategy: appsv1.DeploymentStrategy{
			Type:          appsv1.RollingUpdateDeploymentStrategyType,
			RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &surge, MaxUnavailable: &unavailable},
		},
	}}
}

func TestSurgeAndUnavailable(t *testing.T) {
	pct := intstr.FromString
	num := intstr.FromInt32
	tests := []struct {
		name               string
		d                  *appsv1.Deployment
		surge, unavailable int32
	}{
		{"defaults 25% of 10: surge rounds up, unavailable down", rollingDeployment(10, pct("25%"), pct("25%")), 3, 2},
		{"25% of 4", rollingDeployment(4, pct("25%"), pct("25%")), 1, 1},
		{"25% of 1", rollingDeployment(1, pct("25%"), pct("25%")), 1, 0},
		{"absolute values", rollingDeployment(5, num(2), num(1)), 2, 1},
		{"both round to zero: one may be unavailable", rollingDeployment(3, pct("0%"), pct("10%")), 0, 1},
		{"unavailable capped at replicas", rollingDeployment(2, num(0), num(5)), 0, 2},
		{"no replicas", rollingDeployment(0, pct("25%"), pct("25%")), 0, 0},
		{"100% surge", rollingDeployment(7, pct("100%"), num(0)), 7, 0},
		{"recreate has neither", &appsv1.Deployment{Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](5), Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
		}}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := maxSurge(tt.d); got != tt.surge {
				t.Errorf("maxSurge = %d, want %d", got, tt.surge)
			}
			if got := maxUnavailable(tt.d); got != tt.unavailable {
				t.Errorf("maxUnavailable = %d, want %d", got, tt.unavailable)
			}
		})
	}
}
