package tables

import (
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	nodev1 "k8s.io/api/node/v1"
	policyv1 "k8s.io/api/policy/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
)

// clusterPrinters are the printers of the small groups: policy,
// scheduling, coordination and node.
func clusterPrinters() []*printer {
	return []*printer{
		typed(policyv1.SchemeGroupVersion.WithKind("PodDisruptionBudget"), pdbColumns, pdbCells),
		typed(schedulingv1.SchemeGroupVersion.WithKind("PriorityClass"), priorityClassColumns, priorityClassCells),
		typed(coordinationv1.SchemeGroupVersion.WithKind("Lease"), leaseColumns, leaseCells),
		typed(nodev1.SchemeGroupVersion.WithKind("RuntimeClass"), runtimeClassColumns, runtimeClassCells),
	}
}

var pdbColumns = columns(
	nameColumn(),
	strCol("Min Available", policyv1.PodDisruptionBudgetSpec{}.SwaggerDoc()["minAvailable"]),
	strCol("Max Unavailable", policyv1.PodDisruptionBudgetSpec{}.SwaggerDoc()["maxUnavailable"]),
	intCol("Allowed Disruptions", policyv1.PodDisruptionBudgetStatus{}.SwaggerDoc()["disruptionsAllowed"]),
	ageColumn(),
)

func pdbCells(pdb *policyv1.PodDisruptionBudget, now time.Time) []any {
	minAvailable, maxUnavailable := "N/A", "N/A"
	if v := pdb.Spec.MinAvailable; v != nil {
		minAvailable = v.String()
	}
	if v := pdb.Spec.MaxUnavailable; v != nil {
		maxUnavailable = v.String()
	}
	return []any{pdb.Name, minAvailable, maxUnavailable, int64(pdb.Status.DisruptionsAllowed), ageSince(pdb.CreationTimestamp, now)}
}

var priorityClassColumns = columns(
	nameColumn(),
	intCol("Value", schedulingv1.PriorityClass{}.SwaggerDoc()["value"]),
	boolCol("Global-Default", schedulingv1.PriorityClass{}.SwaggerDoc()["globalDefault"]),
	ageColumn(),
	wide(strCol("PreemptionPolicy", schedulingv1.PriorityClass{}.SwaggerDoc()["preemptionPolicy"])),
)

func priorityClassCells(pc *schedulingv1.PriorityClass, now time.Time) []any {
	return []any{pc.Name, int64(pc.Value), pc.GlobalDefault, ageSince(pc.CreationTimestamp, now), orUnset(pc.PreemptionPolicy)}
}

var leaseColumns = columns(
	nameColumn(),
	strCol("Holder", coordinationv1.LeaseSpec{}.SwaggerDoc()["holderIdentity"]),
	ageColumn(),
)

func leaseCells(l *coordinationv1.Lease, now time.Time) []any {
	holder := ""
	if l.Spec.HolderIdentity != nil {
		holder = *l.Spec.HolderIdentity
	}
	return []any{l.Name, holder, ageSince(l.CreationTimestamp, now)}
}

var runtimeClassColumns = columns(
	nameColumn(),
	strCol("Handler", nodev1.RuntimeClass{}.SwaggerDoc()["handler"]),
	ageColumn(),
)

func runtimeClassCells(rc *nodev1.RuntimeClass, now time.Time) []any {
	return []any{rc.Name, rc.Handler, ageSince(rc.CreationTimestamp, now)}
}
