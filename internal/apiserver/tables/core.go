package tables

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
)

// corePrinters are the printers of the core group's workload and
// configuration kinds; nodes, services, storage and events have files of
// their own.
func corePrinters() []*printer {
	gv := corev1.SchemeGroupVersion
	pod := typed(gv.WithKind("Pod"), podColumns, podCells)
	pod.conditions = func(obj runtime.Object) []metav1.TableRowCondition { return podRowConditions(obj.(*corev1.Pod)) }
	return []*printer{
		pod,
		typed(gv.WithKind("PodTemplate"), podTemplateColumns, podTemplateCells),
		typed(gv.WithKind("ReplicationController"), replicationControllerColumns, replicationControllerCells),
		typed(gv.WithKind("Namespace"), namespaceColumns, namespaceCells),
		typed(gv.WithKind("ConfigMap"), configMapColumns, configMapCells),
		typed(gv.WithKind("Secret"), secretColumns, secretCells),
		typed(gv.WithKind("ServiceAccount"), serviceAccountColumns, serviceAccountCells),
		typed(gv.WithKind("ResourceQuota"), resourceQuotaColumns, resourceQuotaCells),
		typed(gv.WithKind("LimitRange"), columns(nameColumn(), createdAtColumn()), limitRangeCells),
		typed(gv.WithKind("ComponentStatus"), componentStatusColumns, componentStatusCells),
		typed(gv.WithKind("Node"), nodeColumns, nodeCells),
		typed(gv.WithKind("Service"), serviceColumns, serviceCells),
		typed(gv.WithKind("Endpoints"), endpointsColumns, endpointsCells),
	}
}

var podTemplateColumns = columns(
	nameColumn(),
	strCol("Containers", descContainers),
	strCol("Images", descImages),
	strCol("Pod Labels", "The labels of the pods created from the template."),
)

func podTemplateCells(t *corev1.PodTemplate, _ time.Time) []any {
	names, images := containersAndImages(t.Template.Spec)
	return []any{t.Name, names, images, labels.FormatLabels(t.Template.Labels)}
}

var replicationControllerColumns = columns(
	nameColumn(),
	intCol("Desired", corev1.ReplicationControllerSpec{}.SwaggerDoc()["replicas"]),
	intCol("Current", corev1.ReplicationControllerStatus{}.SwaggerDoc()["replicas"]),
	intCol("Ready", corev1.ReplicationControllerStatus{}.SwaggerDoc()["readyReplicas"]),
	ageColumn(),
	wide(strCol("Containers", descContainers)),
	wide(strCol("Images", descImages)),
	wide(strCol("Selector", corev1.ReplicationControllerSpec{}.SwaggerDoc()["selector"])),
)

func replicationControllerCells(rc *corev1.ReplicationController, now time.Time) []any {
	var names, images string
	if rc.Spec.Template != nil {
		names, images = containersAndImages(rc.Spec.Template.Spec)
	}
	return []any{
		rc.Name, replicas(rc.Spec.Replicas), int64(rc.Status.Replicas), int64(rc.Status.ReadyReplicas),
		ageSince(rc.CreationTimestamp, now), names, images, labels.FormatLabels(rc.Spec.Selector),
	}
}

var namespaceColumns = columns(
	nameColumn(),
	strCol("Status", "The status of the namespace"),
	ageColumn(),
)

func namespaceCells(ns *corev1.Namespace, now time.Time) []any {
	return []any{ns.Name, string(ns.Status.Phase), ageSince(ns.CreationTimestamp, now)}
}

var configMapColumns = columns(
	nameColumn(),
	intCol("Data", "Number of keys in the config map (data and binaryData)."),
	ageColumn(),
)

func configMapCells(cm *corev1.ConfigMap, now time.Time) []any {
	return []any{cm.Name, int64(len(cm.Data) + len(cm.BinaryData)), ageSince(cm.CreationTimestamp, now)}
}

var secretColumns = columns(
	nameColumn(),
	strCol("Type", corev1.Secret{}.SwaggerDoc()["type"]),
	intCol("Data", "Number of keys in the secret's data."),
	ageColumn(),
)

func secretCells(s *corev1.Secret, now time.Time) []any {
	keys := len(s.Data)
	for k := range s.StringData {
		if _, ok := s.Data[k]; !ok {
			keys++
		}
	}
	return []any{s.Name, string(s.Type), int64(keys), ageSince(s.CreationTimestamp, now)}
}

var serviceAccountColumns = columns(
	nameColumn(),
	intCol("Secrets", corev1.ServiceAccount{}.SwaggerDoc()["secrets"]),
	ageColumn(),
)

func serviceAccountCells(sa *corev1.ServiceAccount, now time.Time) []any {
	return []any{sa.Name, int64(len(sa.Secrets)), ageSince(sa.CreationTimestamp, now)}
}

var resourceQuotaColumns = columns(
	nameColumn(),
	ageColumn(),
	strCol("Request", "Used and hard quota of each resource that is not a limit, as name: used/hard."),
	strCol("Limit", "Used and hard quota of each limits.* resource, as name: used/hard."),
)

// resourceQuotaCells lists "name: used/hard" for each hard limit, sorted
// by name; limits.* resources go to LIMIT, all others to REQUEST.
func resourceQuotaCells(q *corev1.ResourceQuota, now time.Time) []any {
	names := make([]string, 0, len(q.Spec.Hard))
	for name := range q.Spec.Hard {
		names = append(names, string(name))
	}
	sort.Strings(names)
	var requests, limits []string
	for _, name := range names {
		used, hard := q.Status.Used[corev1.ResourceName(name)], q.Spec.Hard[corev1.ResourceName(name)]
		entry := fmt.Sprintf("%s: %s/%s", name, used.String(), hard.String())
		if strings.HasPrefix(name, "limits.") {
			limits = append(limits, entry)
		} else {
			requests = append(requests, entry)
		}
	}
	return []any{q.Name, ageSince(q.CreationTimestamp, now), strings.Join(requests, ", "), strings.Join(limits, ", ")}
}

func limitRangeCells(lr *corev1.LimitRange, _ time.Time) []any {
	return []any{lr.Name, createdAt(lr.ObjectMeta)}
}

var componentStatusColumns = columns(
	nameColumn(),
	strCol("Status", "Status of the component conditions"),
	strCol("Message", "Message of the component conditions"),
	strCol("Error", "Error of the component conditions"),
)

func componentStatusCells(cs *corev1.ComponentStatus, _ time.Time) []any {
	status, message, errText := "Unknown", "", ""
	for _, c := range cs.Conditions {
		if c.Type != corev1.ComponentHealthy {
			continue
		}
		status = "Unhealthy"
		if c.Status == corev1.ConditionTrue {
			status = "Healthy"
		}
		message, errText = c.Message, c.Error
		break
	}
	return []any{cs.Name, status, message, errText}
}
