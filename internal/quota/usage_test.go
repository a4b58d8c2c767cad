package quota

import (
	"testing"
	"time"

	"github.com/tugcluster/tug/internal/quota/quotatest"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
)

func container(name string, requests, limits corev1.ResourceList) corev1.Container {
	return corev1.Container{Name: name, Resources: corev1.ResourceRequirements{Requests: requests, Limits: limits}}
}

func TestPodUsage(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	always := corev1.ContainerRestartPolicyAlways
	tests := []struct {
		name string
		pod  corev1.Pod
		want corev1.ResourceList
	}{
		{name: "best effort", want: quotatest.List("pods", "1", "count/pods", "1")},
		{name: "containers add up, limits stand in for requests", pod: corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{
			container("a", quotatest.List("cpu", "100m", "memory", "1Gi"), quotatest.List("cpu", "200m")),
			container("b", nil, quotatest.List("cpu", "300m", "ephemeral-storage", "1Gi")),
		}}}, want: quotatest.List("pods", "1", "count/pods", "1", "cpu", "400m", "requests.cpu", "400m", "limits.cpu", "500m",
			"memory", "1Gi", "requests.memory", "1Gi", "ephemeral-storage", "1Gi", "requests.ephemeral-storage", "1Gi",
			"limits.ephemeral-storage", "1Gi")},
		{name: "init container peak and sidecar", pod: corev1.Pod{Spec: corev1.PodSpec{
			InitContainers: []corev1.Container{
				container("init", quotatest.List("cpu", "2"), nil),
				{Name: "sidecar", RestartPolicy: &always, Resources: corev1.ResourceRequirements{Requests: quotatest.List("cpu", "100m")}},
				container("late-init", quotatest.List("cpu", "1"), nil),
			},
			Containers: []corev1.Container{container("a", quotatest.List("cpu", "500m"), nil)},
		}}, want: quotatest.List("pods", "1", "count/pods", "1", "cpu", "2", "requests.cpu", "2")},
		{name: "sidecar adds to containers", pod: corev1.Pod{Spec: corev1.PodSpec{
			InitContainers: []corev1.Container{{Name: "sidecar", RestartPolicy: &always, Resources: corev1.ResourceRequirements{Requests: quotatest.List("cpu", "100m")}}},
			Containers:     []corev1.Container{container("a", quotatest.List("cpu", "500m"), nil)},
		}}, want: quotatest.List("pods", "1", "count/pods", "1", "cpu", "600m", "requests.cpu", "600m")},
		{name: "overhead, extended resource and hugepages", pod: corev1.Pod{Spec: corev1.PodSpec{
			Overhead: quotatest.List("cpu", "10m"),
			Containers: []corev1.Container{container("a", quotatest.List("cpu", "100m", "example.com/dongle", "2", "hugepages-2Mi", "4Mi"),
				quotatest.List("example.com/dongle", "2", "hugepages-2Mi", "4Mi"))},
		}}, want: quotatest.List("pods", "1", "count/pods", "1", "cpu", "110m", "requests.cpu", "110m", "requests.example.com/dongle", "2",
			"hugepages-2Mi", "4Mi", "requests.hugepages-2Mi", "4Mi")},
		{name: "pod-level resources", pod: corev1.Pod{Spec: corev1.PodSpec{
			Resources:  &corev1.ResourceRequirements{Requests: quotatest.List("cpu", "1"), Limits: quotatest.List("cpu", "2")},
			Containers: []corev1.Container{container("a", nil, nil)},
		}}, want: quotatest.List("pods", "1", "count/pods", "1", "cpu", "1", "requests.cpu", "1", "limits.cpu", "2")},
		{name: "succeeded", pod: corev1.Pod{
			Spec:   corev1.PodSpec{Containers: []corev1.Container{container("a", quotatest.List("cpu", "1"), nil)}},
			Status: corev1.PodStatus{Phase: corev1.PodSucceeded},
		}, want: quotatest.List("count/pods", "1")},
		{name: "deleted, grace not over", pod: corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: ptr.To(metav1.NewTime(now.Add(-10 * time.Second))), DeletionGracePeriodSeconds: ptr.To[int64](30)},
		}, want: quotatest.List("pods", "1", "count/pods", "1")},
		{name: "deleted, grace over", pod: corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: ptr.To(metav1.NewTime(now.Add(-31 * time.Second))), DeletionGracePeriodSeconds: ptr.To[int64](30)},
		}, want: quotatest.List("count/pods", "1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Usage(Pods, &tt.pod, now)
			if diff := cmp.Diff(quotatest.Show(tt.want), quotatest.Show(got)); diff != "" {
				t.Errorf("usage (-want +got):\n%s", diff)
			}
		})
	}
}

func TestServiceAndClaimUsage(t *testing.T) {
	ports := []corev1.ServicePort{{Port: 80}, {Port: 443}}
	tests := []struct {
		name string
		gr   schema.GroupResource
		obj  runtime.Object
		want corev1.ResourceList
	}{
		{name: "cluster IP", gr: Services, obj: &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Ports: ports}},
			want: quotatest.List("services", "1", "count/services", "1", "services.nodeports", "0", "services.loadbalancers", "0")},
		{name: "node port", gr: Services, obj: &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: ports}},
			want: quotatest.List("services", "1", "count/services", "1", "services.nodeports", "2", "services.loadbalancers", "0")},
		{name: "load balancer", gr: Services, obj: &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: ports}},
			want: quotatest.List("services", "1", "count/services", "1", "services.nodeports", "2", "services.loadbalancers", "1")},
		{name: "load balancer without node ports", gr: Services, obj: &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer,
			Ports: ports, AllocateLoadBalancerNodePorts: ptr.To(false)}},
			want: quotatest.List("services", "1", "count/services", "1", "services.nodeports", "0", "services.loadbalancers", "1")},
		{name: "claim with class", gr: PersistentVolumeClaims, obj: &corev1.PersistentVolumeClaim{Spec: corev1.PersistentVolumeClaimSpec{
			StorageClassName: ptr.To("gold"), Resources: corev1.VolumeResourceRequirements{Requests: quotatest.List("storage", "1Gi")}}},
			want: quotatest.List("persistentvolumeclaims", "1", "count/persistentvolumeclaims", "1", "requests.storage", "1Gi",
				"gold.storageclass.storage.k8s.io/persistentvolumeclaims", "1", "gold.storageclass.storage.k8s.io/requests.storage", "1Gi")},
		{name: "claim being expanded", gr: PersistentVolumeClaims, obj: &corev1.PersistentVolumeClaim{
			Spec:   corev1.PersistentVolumeClaimSpec{Resources: corev1.VolumeResourceRequirements{Requests: quotatest.List("storage", "1Gi")}},
			Status: corev1.PersistentVolumeClaimStatus{AllocatedResources: quotatest.List("storage", "2Gi")}},
			want: quotatest.List("persistentvolumeclaims", "1", "count/persistentvolumeclaims", "1", "requests.storage", "2Gi")},
		{name: "config map", gr: schema.GroupResource{Resource: "configmaps"}, obj: &corev1.ConfigMap{},
			want: quotatest.List("configmaps", "1", "count/configmaps", "1")},
		{name: "grouped resource", gr: schema.GroupResource{Group: "apps", Resource: "replicasets"}, obj: &corev1.ConfigMap{},
			want: quotatest.List("count/replicasets.apps", "1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Usage(tt.gr, tt.obj, time.Time{})
			if diff := cmp.Diff(quotatest.Show(tt.want), quotatest.Show(got)); diff != "" {
				t.Errorf("usage (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResourceOf(t *testing.T) {
	tests := map[string]schema.GroupResource{
		"pods": Pods, "count/pods": Pods, "requests.cpu": Pods, "limits.memory": Pods, "cpu": Pods,
		"requests.example.com/dongle": Pods, "hugepages-2Mi": Pods, "requests.hugepages-1Gi": Pods,
		"services.nodeports": Services, "count/services": Services,
		"requests.storage": PersistentVolumeClaims, "gold.storageclass.storage.k8s.io/requests.storage": PersistentVolumeClaims,
		"count/replicasets.apps":         {Group: "apps", Resource: "replicasets"},
		"count/widgets.example.com":      {Group: "example.com", Resource: "widgets"},
		"configmaps":                     {Resource: "configmaps"},
		"resourcequotas":                 {Resource: "resourcequotas"},
		"requests.kubernetes.io/unknown": {},
		"storage":                        {},
		"example.com/dongle":             {},
	}
	for name, want := range tests {
		got, ok := ResourceOf(corev1.ResourceName(name))
		if got != want || ok != (want != schema.GroupResource{}) {
			t.Errorf("ResourceOf(%s) = %v, %v; want %v", name, got, ok, want)
		}
	}
}

func TestScopes(t *testing.T) {
	bestEffort := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{container("a", nil, nil)}}}
	burstable := &corev1.Pod{Spec: corev1.PodSpec{PriorityClassName: "high", ActiveDeadlineSeconds: ptr.To[int64](10),
		Containers: []corev1.Container{container("a", quotatest.List("memory", "1Gi"), nil)}}}
	crossNS := &corev1.Pod{Spec: corev1.PodSpec{Affinity: &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{Namespaces: []string{"other"}}}}}}}
	exists := func(s corev1.ResourceQuotaScope) corev1.ScopedResourceSelectorRequirement {
		return corev1.ScopedResourceSelectorRequirement{ScopeName: s, Operator: corev1.ScopeSelectorOpExists}
	}
	priority := func(op corev1.ScopeSelectorOperator, values ...string) corev1.ScopedResourceSelectorRequirement {
		return corev1.ScopedResourceSelectorRequirement{ScopeName: corev1.ResourceQuotaScopePriorityClass, Operator: op, Values: values}
	}
	tests := []struct {
		name   string
		scopes []corev1.ScopedResourceSelectorRequirement
		pod    *corev1.Pod
		want   bool
	}{
		{"no scopes", nil, bestEffort, true},
		{"best effort", []corev1.ScopedResourceSelectorRequirement{exists(corev1.ResourceQuotaScopeBestEffort)}, bestEffort, true},
		{"best effort, burstable pod", []corev1.ScopedResourceSelectorRequirement{exists(corev1.ResourceQuotaScopeBestEffort)}, burstable, false},
		{"not best effort", []corev1.ScopedResourceSelectorRequirement{exists(corev1.ResourceQuotaScopeNotBestEffort)}, burstable, true},
		{"terminating", []corev1.ScopedResourceSelectorRequirement{exists(corev1.ResourceQuotaScopeTerminating)}, burstable, true},
		{"not terminating", []corev1.ScopedResourceSelectorRequirement{exists(corev1.ResourceQuotaScopeNotTerminating)}, burstable, false},
		{"all must match", []corev1.ScopedResourceSelectorRequirement{exists(corev1.ResourceQuotaScopeTerminating),
			exists(corev1.ResourceQuotaScopeBestEffort)}, burstable, false},
		{"priority in", []corev1.ScopedResourceSelectorRequirement{priority(corev1.ScopeSelectorOpIn, "high")}, burstable, true},
		{"priority in, other class", []corev1.ScopedResourceSelectorRequirement{priority(corev1.ScopeSelectorOpIn, "low")}, burstable, false},
		{"priority not in, no class", []corev1.ScopedResourceSelectorRequirement{priority(corev1.ScopeSelectorOpNotIn, "high")}, bestEffort, true},
		{"priority exists", []corev1.ScopedResourceSelectorRequirement{priority(corev1.ScopeSelectorOpExists)}, bestEffort, false},
		{"priority does not exist", []corev1.ScopedResourceSelectorRequirement{priority(corev1.ScopeSelectorOpDoesNotExist)}, bestEffort, false},
		{"cross-namespace affinity", []corev1.ScopedResourceSelectorRequirement{exists(corev1.ResourceQuotaScopeCrossNamespacePodAffinity)}, crossNS, true},
		{"cross-namespace affinity, none", []corev1.ScopedResourceSelectorRequirement{exists(corev1.ResourceQuotaScopeCrossNamespacePodAffinity)}, bestEffort, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Matches(tt.scopes, Pods, tt.pod); got != tt.want {
				t.Errorf("Matches = %v, want %v", got, tt.want)
			}
		})
	}
	spec := &corev1.ResourceQuotaSpec{Scopes: []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeBestEffort}}
	if Matches(Selectors(spec), Services, &corev1.Service{}) {
		t.Error("a scoped quota selected a service")
	}
}

func TestPodConstraints(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{
		InitContainers: []corev1.Container{container("init", nil, quotatest.List("cpu", "1", "memory", "1Gi"))},
		Containers:     []corev1.Container{container("a", quotatest.List("cpu", "1"), nil), container("b", nil, nil)},
	}}
	required := []corev1.ResourceName{"pods", "requests.cpu", "limits.cpu", "limits.memory", "requests.storage"}
	err := PodConstraints(required, pod)
	want := "must specify limits.cpu for: a,b; limits.memory for: a,b; requests.cpu for: b"
	if err == nil || err.Error() != want {
		t.Errorf("PodConstraints = %v, want %q", err, want)
	}
	if err := PodConstraints([]corev1.ResourceName{"pods", "requests.ephemeral-storage"}, pod); err != nil {
		t.Errorf("only cpu and memory must be stated: %v", err)
	}
}

func TestListArithmetic(t *testing.T) {
	used, hard := quotatest.List("pods", "2", "cpu", "500m"), quotatest.List("pods", "2", "cpu", "1")
	if got := Exceeded(Add(used, quotatest.List("pods", "1", "cpu", "500m")), hard); !cmp.Equal(got, []corev1.ResourceName{"pods"}) {
		t.Errorf("Exceeded = %v, want [pods]", got)
	}
	if got := Format(quotatest.List("pods", "1", "cpu", "1500m")); got != "cpu=1500m,pods=1" {
		t.Errorf("Format = %q", got)
	}
	if got := SubtractFloor(quotatest.List("cpu", "1", "memory", "1Gi"), quotatest.List("cpu", "2", "memory", "512Mi")); !Equal(got, quotatest.List("cpu", "0", "memory", "512Mi")) {
		t.Errorf("SubtractFloor = %v", quotatest.Show(got))
	}
	if !Equal(quotatest.List("cpu", "1"), quotatest.List("cpu", "1000m")) || Equal(quotatest.List("cpu", "1"), quotatest.List("cpu", "1", "pods", "0")) {
		t.Error("Equal compares values and names")
	}
}
