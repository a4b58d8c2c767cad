package tables

import (
	"testing"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	policyv1 "k8s.io/api/policy/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestPodDisruptionBudgetCells(t *testing.T) {
	runCellCases(t, []cellCase{
		{"min available", &policyv1.PodDisruptionBudget{ObjectMeta: om("web"), Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr(intstr.FromInt32(2))},
			Status: policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: 1}}, []any{"web", "2", "N/A", int64(1), "5m"}},
		{"max unavailable percent", &policyv1.PodDisruptionBudget{ObjectMeta: om("db"), Spec: policyv1.PodDisruptionBudgetSpec{MaxUnavailable: ptr(intstr.FromString("25%"))}},
			[]any{"db", "N/A", "25%", int64(0), "5m"}},
	})
}

func TestPriorityClassCells(t *testing.T) {
	runCellCases(t, []cellCase{
		{"system", &schedulingv1.PriorityClass{ObjectMeta: om("system-node-critical"), Value: 2000001000, PreemptionPolicy: ptr(corev1.PreemptLowerPriority)},
			[]any{"system-node-critical", int64(2000001000), false, "5m", "PreemptLowerPriority"}},
		{"global default, never", &schedulingv1.PriorityClass{ObjectMeta: om("batch"), Value: -5, GlobalDefault: true, PreemptionPolicy: ptr(corev1.PreemptNever)},
			[]any{"batch", int64(-5), true, "5m", "Never"}},
		{"unset policy", &schedulingv1.PriorityClass{ObjectMeta: om("u")}, []any{"u", int64(0), false, "5m", "<unset>"}},
	})
}

func TestLeaseAndRuntimeClassCells(t *testing.T) {
	runCellCases(t, []cellCase{
		{"held", &coordinationv1.Lease{ObjectMeta: om("node-1"), Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr("node-1")}}, []any{"node-1", "node-1", "5m"}},
		{"free", &coordinationv1.Lease{ObjectMeta: om("free")}, []any{"free", "", "5m"}},
	})
	runCellCases(t, []cellCase{
		{"gvisor", &nodev1.RuntimeClass{ObjectMeta: om("gvisor"), Handler: "runsc"}, []any{"gvisor", "runsc", "5m"}},
	})
}
