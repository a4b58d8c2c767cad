package tables

import (
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// appsPrinters are the printers of the apps group.
func appsPrinters() []*printer {
	gv := appsv1.SchemeGroupVersion
	return []*printer{
		typed(gv.WithKind("Deployment"), deploymentColumns, deploymentCells),
		typed(gv.WithKind("ReplicaSet"), replicaSetColumns, replicaSetCells),
		typed(gv.WithKind("StatefulSet"), statefulSetColumns, statefulSetCells),
		typed(gv.WithKind("DaemonSet"), daemonSetColumns, daemonSetCells),
		typed(gv.WithKind("ControllerRevision"), controllerRevisionColumns, controllerRevisionCells),
	}
}

var deploymentColumns = columns(
	nameColumn(),
	strCol("Ready", "Number of the pod with ready state"),
	intCol("Up-to-date", appsv1.DeploymentStatus{}.SwaggerDoc()["updatedReplicas"]),
	intCol("Available", appsv1.DeploymentStatus{}.SwaggerDoc()["availableReplicas"]),
	ageColumn(),
	wide(strCol("Containers", descContainers)),
	wide(strCol("Images", descImages)),
	wide(strCol("Selector", appsv1.DeploymentSpec{}.SwaggerDoc()["selector"])),
)

func deploymentCells(d *appsv1.Deployment, now time.Time) []any {
	names, images := containersAndImages(d.Spec.Template.Spec)
	return []any{
		d.Name,
		fmt.Sprintf("%d/%d", d.Status.ReadyReplicas, replicas(d.Spec.Replicas)),
		int64(d.Status.UpdatedReplicas),
		int64(d.Status.AvailableReplicas),
		ageSince(d.CreationTimestamp, now),
		names, images,
		metav1.FormatLabelSelector(d.Spec.Selector),
	}
}

var replicaSetColumns = columns(
	nameColumn(),
	intCol("Desired", appsv1.ReplicaSetSpec{}.SwaggerDoc()["replicas"]),
	intCol("Current", appsv1.ReplicaSetStatus{}.SwaggerDoc()["replicas"]),
	intCol("Ready", appsv1.ReplicaSetStatus{}.SwaggerDoc()["readyReplicas"]),
	ageColumn(),
	wide(strCol("Containers", descContainers)),
	wide(strCol("Images", descImages)),
	wide(strCol("Selector", appsv1.ReplicaSetSpec{}.SwaggerDoc()["selector"])),
)

func replicaSetCells(rs *appsv1.ReplicaSet, now time.Time) []any {
	names, images := containersAndImages(rs.Spec.Template.Spec)
	return []any{
		rs.Name,
		replicas(rs.Spec.Replicas),
		int64(rs.Status.Replicas),
		int64(rs.Status.ReadyReplicas),
		ageSince(rs.CreationTimestamp, now),
		names, images,
		metav1.FormatLabelSelector(rs.Spec.Selector),
	}
}

var statefulSetColumns = columns(
	nameColumn(),
	strCol("Ready", "Number of the pod with ready state"),
	ageColumn(),
	wide(strCol("Containers", descContainers)),
	wide(strCol("Images", descImages)),
)

func statefulSetCells(s *appsv1.StatefulSet, now time.Time) []any {
	names, images := containersAndImages(s.Spec.Template.Spec)
	return []any{
		s.Name,
		fmt.Sprintf("%d/%d", s.Status.ReadyReplicas, replicas(s.Spec.Replicas)),
		ageSince(s.CreationTimestamp, now),
		names, images,
	}
}

var daemonSetStatusDoc = appsv1.DaemonSetStatus{}.SwaggerDoc()

var daemonSetColumns = columns(
	nameColumn(),
	intCol("Desired", daemonSetStatusDoc["desiredNumberScheduled"]),
	intCol("Current", daemonSetStatusDoc["currentNumberScheduled"]),
	intCol("Ready", daemonSetStatusDoc["numberReady"]),
	intCol("Up-to-date", daemonSetStatusDoc["updatedNumberScheduled"]),
	intCol("Available", daemonSetStatusDoc["numberAvailable"]),
	strCol("Node Selector", "The node selector of the pod template."),
	ageColumn(),
	wide(strCol("Containers", descContainers)),
	wide(strCol("Images", descImages)),
	wide(strCol("Selector", appsv1.DaemonSetSpec{}.SwaggerDoc()["selector"])),
)

func daemonSetCells(ds *appsv1.DaemonSet, now time.Time) []any {
	names, images := containersAndImages(ds.Spec.Template.Spec)
	st := ds.Status
	return []any{
		ds.Name,
		int64(st.DesiredNumberScheduled),
		int64(st.CurrentNumberScheduled),
		int64(st.NumberReady),
		int64(st.UpdatedNumberScheduled),
		int64(st.NumberAvailable),
		labels.FormatLabels(ds.Spec.Template.Spec.NodeSelector),
		ageSince(ds.CreationTimestamp, now),
		names, images,
		metav1.FormatLabelSelector(ds.Spec.Selector),
	}
}

var controllerRevisionColumns = columns(
	nameColumn(),
	strCol("Controller", "Controller of the object"),
	intCol("Revision", appsv1.ControllerRevision{}.SwaggerDoc()["revision"]),
	ageColumn(),
)

func controllerRevisionCells(cr *appsv1.ControllerRevision, now time.Time) []any {
	return []any{cr.Name, controllerName(cr.ObjectMeta), cr.Revision, ageSince(cr.CreationTimestamp, now)}
}

// controllerName names an object's controller as kind.group/name
// ("statefulset.apps/web"), or "<none>".
func controllerName(m metav1.ObjectMeta) string {
	ref := metav1.GetControllerOfNoCopy(&m)
	if ref == nil {
		return "<none>"
	}
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return ref.Name
	}
	return strings.ToLower(schema.GroupKind{Group: gv.Group, Kind: ref.Kind}.String()) + "/" + ref.Name
}
