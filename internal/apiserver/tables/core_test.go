package tables

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestNamespaceCells(t *testing.T) {
	runCellCases(t, []cellCase{
		{"active", &corev1.Namespace{ObjectMeta: om("default"), Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}},
			[]any{"default", "Active", "5m"}},
		{"terminating", &corev1.Namespace{ObjectMeta: om("old"), Status: corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating}},
			[]any{"old", "Terminating", "5m"}},
	})
}

func TestConfigMapSecretServiceAccountCells(t *testing.T) {
	runCellCases(t, []cellCase{
		{"empty", &corev1.ConfigMap{ObjectMeta: om("empty")}, []any{"empty", int64(0), "5m"}},
		{"data and binary data", &corev1.ConfigMap{ObjectMeta: om("cfg"), Data: map[string]string{"a": "1", "b": "2"}, BinaryData: map[string][]byte{"c": {1}}},
			[]any{"cfg", int64(3), "5m"}},
	})
	runCellCases(t, []cellCase{
		{"opaque", &corev1.Secret{ObjectMeta: om("s"), Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"a": nil, "b": nil}},
			[]any{"s", "Opaque", int64(2), "5m"}},
		{"tls", &corev1.Secret{ObjectMeta: om("tls"), Type: corev1.SecretTypeTLS, Data: map[string][]byte{"tls.crt": nil, "tls.key": nil}, StringData: map[string]string{"tls.crt": "", "ca.crt": ""}},
			[]any{"tls", "kubernetes.io/tls", int64(3), "5m"}},
	})
	runCellCases(t, []cellCase{
		{"default", &corev1.ServiceAccount{ObjectMeta: om("default")}, []any{"default", int64(0), "5m"}},
		{"with secrets", &corev1.ServiceAccount{ObjectMeta: om("bot"), Secrets: []corev1.ObjectReference{{Name: "a"}}}, []any{"bot", int64(1), "5m"}},
	})
}

func TestReplicationControllerAndPodTemplateCells(t *testing.T) {
	template := &corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx:1"}, {Name: "log", Image: "busybox"}}},
	}
	runCellCases(t, []cellCase{
		{"rc", &corev1.ReplicationController{
			ObjectMeta: om("web"),
			Spec:       corev1.ReplicationControllerSpec{Replicas: ptr[int32](3), Selector: map[string]string{"app": "web"}, Template: template},
			Status:     corev1.ReplicationControllerStatus{Replicas: 3, ReadyReplicas: 2},
		}, []any{"web", int64(3), int64(3), int64(2), "5m", "web,log", "nginx:1,busybox", "app=web"}},
		{"rc without template", &corev1.ReplicationController{ObjectMeta: om("bare"), Spec: corev1.ReplicationControllerSpec{Replicas: ptr[int32](0)}},
			[]any{"bare", int64(0), int64(0), int64(0), "5m", "", "", "<none>"}},
	})
	runCellCases(t, []cellCase{
		{"template", &corev1.PodTemplate{ObjectMeta: om("tmpl"), Template: *template},
			[]any{"tmpl", "web,log", "nginx:1,busybox", "app=web"}},
	})
}

func TestResourceQuotaLimitRangeComponentStatusCells(t *testing.T) {
	runCellCases(t, []cellCase{
		{"requests and limits", &corev1.ResourceQuota{
			ObjectMeta: om("compute"),
			Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{
				"requests.cpu": resource.MustParse("1"), "requests.memory": resource.MustParse("1Gi"),
				"limits.cpu": resource.MustParse("2"), "limits.memory": resource.MustParse("2Gi"), "pods": resource.MustParse("10"),
			}},
			Status: corev1.ResourceQuotaStatus{Used: corev1.ResourceList{"requests.cpu": resource.MustParse("500m"), "pods": resource.MustParse("3")}},
		}, []any{"compute", "5m", "pods: 3/10, requests.cpu: 500m/1, requests.memory: 0/1Gi", "limits.cpu: 0/2, limits.memory: 0/2Gi"}},
		{"empty", &corev1.ResourceQuota{ObjectMeta: om("none")}, []any{"none", "5m", "", ""}},
	})
	runCellCases(t, []cellCase{
		{"limit range", &corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Name: "limits", CreationTimestamp: metav1.NewTime(time.Date(2025, 5, 30, 8, 0, 0, 0, time.FixedZone("CEST", 7200)))}},
			[]any{"limits", "2025-05-30T06:00:00Z"}},
	})
	runCellCases(t, []cellCase{
		{"healthy", &corev1.ComponentStatus{ObjectMeta: metav1.ObjectMeta{Name: "etcd-0"}, Conditions: []corev1.ComponentCondition{{Type: corev1.ComponentHealthy, Status: corev1.ConditionTrue, Message: "ok"}}},
			[]any{"etcd-0", "Healthy", "ok", ""}},
		{"unhealthy", &corev1.ComponentStatus{ObjectMeta: metav1.ObjectMeta{Name: "scheduler"}, Conditions: []corev1.ComponentCondition{{Type: corev1.ComponentHealthy, Status: corev1.ConditionFalse, Error: "connection refused"}}},
			[]any{"scheduler", "Unhealthy", "", "connection refused"}},
		{"unknown", &corev1.ComponentStatus{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, []any{"x", "Unknown", "", ""}},
	})
}

func TestNodeCells(t *testing.T) {
	info := corev1.NodeSystemInfo{KubeletVersion: "v1.37.2", OSImage: "Debian GNU/Linux 12 (bookworm)", KernelVersion: "6.1.0-18-amd64", ContainerRuntimeVersion: "containerd://2.0.0"}
	runCellCases(t, []cellCase{
		{"ready control plane", &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: "cp", CreationTimestamp: ago(50 * time.Hour), Labels: map[string]string{
				"node-role.kubernetes.io/control-plane": "", "node-role.kubernetes.io/etcd": "true", "node-role.kubernetes.io/": "", "kubernetes.io/role": "master",
			}},
			Status: corev1.NodeStatus{
				Conditions: []corev1.NodeCondition{{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse}, {Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
				Addresses:  []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: "cp"}, {Type: corev1.NodeInternalIP, Address: "172.18.0.2"}, {Type: corev1.NodeInternalIP, Address: "fc00::2"}},
				NodeInfo:   info,
			},
		}, []any{"cp", "Ready", "control-plane,etcd,master", "2d2h", "v1.37.2", "172.18.0.2", "<none>", info.OSImage, info.KernelVersion, info.ContainerRuntimeVersion}},
		{"not ready and cordoned", &corev1.Node{
			ObjectMeta: om("w1"),
			Spec:       corev1.NodeSpec{Unschedulable: true},
			Status: corev1.NodeStatus{
				Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionUnknown}},
				Addresses:  []corev1.NodeAddress{{Type: corev1.NodeExternalIP, Address: "203.0.113.9"}},
			},
		}, []any{"w1", "NotReady,SchedulingDisabled", "<none>", "5m", "", "<none>", "203.0.113.9", "<unknown>", "<unknown>", "<unknown>"}},
		{"no conditions", &corev1.Node{ObjectMeta: om("new")},
			[]any{"new", "Unknown", "<none>", "5m", "", "<none>", "<none>", "<unknown>", "<unknown>", "<unknown>"}},
	})
}

func TestPersistentVolumeCells(t *testing.T) {
	runCellCases(t, []cellCase{
		{"bound", &corev1.PersistentVolume{
			ObjectMeta: om("pv-1"),
			Spec: corev1.PersistentVolumeSpec{
				Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")},
				AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany, corev1.ReadWriteOnce, corev1.ReadWriteOnce},
				PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
				ClaimRef:                      &corev1.ObjectReference{Namespace: "apps", Name: "data"},
				StorageClassName:              "standard",
				VolumeMode:                    ptr(corev1.PersistentVolumeFilesystem),
			},
			Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumeBound},
		}, []any{"pv-1", "10Gi", "RWO,RWX", "Retain", "Bound", "apps/data", "standard", "<unset>", "", "5m", "Filesystem"}},
		{"released, beta class, terminating", &corev1.PersistentVolume{
			ObjectMeta: func() metav1.ObjectMeta {
				m := om("pv-2")
				m.Annotations = map[string]string{"volume.beta.kubernetes.io/storage-class": "old"}
				m.DeletionTimestamp = agoPtr(time.Second)
				return m
			}(),
			Spec: corev1.PersistentVolumeSpec{
				AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOncePod, corev1.ReadOnlyMany},
				PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
				StorageClassName:              "ignored",
				VolumeAttributesClassName:     ptr("gold"),
			},
			Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumeReleased, Reason: "Recycling"},
		}, []any{"pv-2", "0", "ROX,RWOP", "Delete", "Terminating", "", "old", "gold", "Recycling", "5m", "<unset>"}},
	})
}

func TestPersistentVolumeClaimCells(t *testing.T) {
	runCellCases(t, []cellCase{
		{"bound", &corev1.PersistentVolumeClaim{
			ObjectMeta: om("data"),
			Spec:       corev1.PersistentVolumeClaimSpec{VolumeName: "pv-1", StorageClassName: ptr("standard"), VolumeMode: ptr(corev1.PersistentVolumeBlock)},
			Status: corev1.PersistentVolumeClaimStatus{
				Phase: corev1.ClaimBound, AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Capacity:                         corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
				CurrentVolumeAttributesClassName: ptr("silver"),
			},
		}, []any{"data", "Bound", "pv-1", "1Gi", "RWO", "standard", "silver", "5m", "Block"}},
		{"pending", &corev1.PersistentVolumeClaim{
			ObjectMeta: om("wait"),
			Spec:       corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}},
			Status:     corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending},
		}, []any{"wait", "Pending", "", "", "", "", "<unset>", "5m", "<unset>"}},
	})
}
