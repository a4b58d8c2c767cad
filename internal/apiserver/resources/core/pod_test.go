package core

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/utils/ptr"
)

func TestPodCreateDefaults(t *testing.T) {
	s := newPodStrategy()
	pod := minimalPod()
	pod.Status.Phase = corev1.PodRunning // a client may not set status
	s.PrepareForCreate(context.Background(), pod)
	s.Default(pod)
	want := minimalPod()
	want.Spec = corev1.PodSpec{
		Containers: []corev1.Container{{
			Name: "c", Image: "nginx", ImagePullPolicy: corev1.PullAlways,
			TerminationMessagePath: "/dev/termination-log", TerminationMessagePolicy: corev1.TerminationMessageReadFile,
		}},
		RestartPolicy:                 corev1.RestartPolicyAlways,
		TerminationGracePeriodSeconds: ptr.To[int64](30),
		DNSPolicy:                     corev1.DNSClusterFirst,
		SecurityContext:               &corev1.PodSecurityContext{},
		SchedulerName:                 corev1.DefaultSchedulerName,
		EnableServiceLinks:            ptr.To(true),
		Priority:                      ptr.To[int32](0),
		PreemptionPolicy:              ptr.To(corev1.PreemptLowerPriority),
	}
	want.Status = corev1.PodStatus{Phase: corev1.PodPending, QOSClass: corev1.PodQOSBestEffort}
	if diff := cmp.Diff(want, pod); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if errs := s.Validate(context.Background(), pod); len(errs) != 0 {
		t.Errorf("defaulted minimal pod is invalid: %v", errs)
	}
}

func TestPodRequestsFromLimits(t *testing.T) {
	pod := minimalPod()
	pod.Spec.Containers[0].Resources = corev1.ResourceRequirements{
		Limits:   quantities("cpu", "1", "memory", "1Gi"),
		Requests: quantities("cpu", "500m"),
	}
	newPodStrategy().Default(pod)
	if diff := cmp.Diff(quantities("cpu", "500m", "memory", "1Gi"), pod.Spec.Containers[0].Resources.Requests); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestQOSClass(t *testing.T) {
	tests := []struct {
		name       string
		containers []corev1.ResourceRequirements
		want       corev1.PodQOSClass
	}{
		{"nothing set", []corev1.ResourceRequirements{{}}, corev1.PodQOSBestEffort},
		{"other resources only", []corev1.ResourceRequirements{{Limits: quantities("nvidia.com/gpu", "1")}}, corev1.PodQOSBestEffort},
		{"limits equal requests", []corev1.ResourceRequirements{{
			Limits: quantities("cpu", "1", "memory", "1Gi"), Requests: quantities("cpu", "1", "memory", "1Gi"),
		}}, corev1.PodQOSGuaranteed},
		{"limits only", []corev1.ResourceRequirements{{Limits: quantities("cpu", "1", "memory", "1Gi")}}, corev1.PodQOSGuaranteed},
		{"requests below limits", []corev1.ResourceRequirements{{
			Limits: quantities("cpu", "1", "memory", "1Gi"), Requests: quantities("cpu", "500m", "memory", "1Gi"),
		}}, corev1.PodQOSBurstable},
		{"no memory limit", []corev1.ResourceRequirements{{Limits: quantities("cpu", "1")}}, corev1.PodQOSBurstable},
		{"one container of two", []corev1.ResourceRequirements{{Limits: quantities("cpu", "1", "memory", "1Gi")}, {}}, corev1.PodQOSBurstable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &corev1.Pod{}
			for _, r := range tt.containers {
				pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Resources: r})
			}
			if got := QOSClass(pod); got != tt.want {
				t.Errorf("QOSClass = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestPodValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*corev1.Pod)
		want   []string
	}{
		{"valid", func(*corev1.Pod) {}, nil},
		{"no containers", func(p *corev1.Pod) { p.Spec.Containers = nil }, []string{"FieldValueRequired spec.containers"}},
		{"container name not a DNS label", func(p *corev1.Pod) { p.Spec.Containers[0].Name = "Web_1" },
			[]string{"FieldValueInvalid spec.containers[0].name"}},
		{"duplicate container names", func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "c", Image: "busybox"}}
		}, []string{"FieldValueDuplicate spec.containers[0].name"}},
		{"empty image", func(p *corev1.Pod) { p.Spec.Containers[0].Image = "" }, []string{"FieldValueRequired spec.containers[0].image"}},
		{"bad restart policy", func(p *corev1.Pod) { p.Spec.RestartPolicy = "Sometimes" }, []string{"FieldValueNotSupported spec.restartPolicy"}},
		{"port out of range", func(p *corev1.Pod) {
			p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 70000, Protocol: corev1.ProtocolTCP}}
		}, []string{"FieldValueInvalid spec.containers[0].ports[0].containerPort"}},
		{"bad protocol", func(p *corev1.Pod) {
			p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, Protocol: "HTTP"}}
		}, []string{"FieldValueNotSupported spec.containers[0].ports[0].protocol"}},
		{"mount of unknown volume", func(p *corev1.Pod) {
			p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
		}, []string{"FieldValueNotFound spec.containers[0].volumeMounts[0].name"}},
		{"two volume sources", func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{
				EmptyDir: &corev1.EmptyDirVolumeSource{}, HostPath: &corev1.HostPathVolumeSource{Path: "/"},
			}}}
		}, []string{"FieldValueForbidden spec.volumes[0]"}},
		{"request above limit", func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources = corev1.ResourceRequirements{Limits: quantities("cpu", "1"), Requests: quantities("cpu", "2")}
		}, []string{"FieldValueInvalid spec.containers[0].resources.requests[cpu]"}},
		{"toleration Exists with value", func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpExists, Value: "v"}}
		}, []string{"FieldValueInvalid spec.tolerations[0].operator"}},
		{"probe without handler", func(p *corev1.Pod) { p.Spec.Containers[0].LivenessProbe = &corev1.Probe{} },
			[]string{"FieldValueRequired spec.containers[0].livenessProbe"}},
		{"init container with probe", func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "busybox",
				ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{}}}}}
		}, []string{"FieldValueForbidden spec.initContainers[0].readinessProbe"}},
		{"hostNetwork port mismatch", func(p *corev1.Pod) {
			p.Spec.HostNetwork = true
			p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: 81, Protocol: corev1.ProtocolTCP}}
		}, []string{"FieldValueInvalid spec.containers[0].ports[0].hostPort"}},
	}
	s := newPodStrategy()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := minimalPod()
			tt.mutate(pod)
			s.Default(pod)
			if diff := cmp.Diff(tt.want, summary(s.Validate(context.Background(), pod))); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPodValidateUpdate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*corev1.Pod)
		want   []string
	}{
		{"image", func(p *corev1.Pod) { p.Spec.Containers[0].Image = "nginx:2" }, nil},
		{"labels", func(p *corev1.Pod) { p.Labels = map[string]string{"a": "b"} }, nil},
		{"shorter deadline", func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptr.To[int64](50) }, nil},
		{"longer deadline", func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptr.To[int64](500) },
			[]string{"FieldValueInvalid spec.activeDeadlineSeconds"}},
		{"added toleration", func(p *corev1.Pod) {
			p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: "b", Operator: corev1.TolerationOpExists})
		}, nil},
		{"removed toleration", func(p *corev1.Pod) { p.Spec.Tolerations = nil }, []string{"FieldValueForbidden spec.tolerations"}},
		{"removed gate", func(p *corev1.Pod) { p.Spec.SchedulingGates = nil }, nil},
		{"added gate", func(p *corev1.Pod) {
			p.Spec.SchedulingGates = append(p.Spec.SchedulingGates, corev1.PodSchedulingGate{Name: "new"})
		}, []string{"FieldValueForbidden spec.schedulingGates[1]"}},
		{"restart policy", func(p *corev1.Pod) { p.Spec.RestartPolicy = corev1.RestartPolicyNever }, []string{"FieldValueForbidden spec"}},
		{"node name", func(p *corev1.Pod) { p.Spec.NodeName = "n1" }, []string{"FieldValueForbidden spec"}},
		{"added container", func(p *corev1.Pod) {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "d", Image: "x",
				ImagePullPolicy: corev1.PullAlways, TerminationMessagePolicy: corev1.TerminationMessageReadFile})
		}, []string{"FieldValueForbidden spec.containers"}},
	}
	s := newPodStrategy()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := minimalPod()
			old.Spec.ActiveDeadlineSeconds = ptr.To[int64](100)
			old.Spec.Tolerations = []corev1.Toleration{{Key: "a", Operator: corev1.TolerationOpExists}}
			old.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "g"}}
			s.Default(old)
			pod := old.DeepCopy()
			tt.mutate(pod)
			errs := s.ValidateUpdate(context.Background(), pod, old)
			if diff := cmp.Diff(tt.want, summary(errs)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			for _, e := range errs {
				if e.Field == "spec" && !strings.HasPrefix(e.Detail, "pod updates may not change fields other than") {
					t.Errorf("detail = %q", e.Detail)
				}
			}
		})
	}
}

func TestPodGetAttrs(t *testing.T) {
	pod := minimalPod()
	pod.Spec.NodeName = "n1"
	pod.Spec.HostNetwork = true
	pod.Spec.ServiceAccountName = "sa"
	pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIPs: []corev1.PodIP{{IP: "10.42.0.5"}}, NominatedNodeName: "n2"}
	newPodStrategy().Default(pod)
	_, got, err := newPodStrategy().GetAttrs(pod)
	if err != nil {
		t.Fatal(err)
	}
	want := fields.Set{
		"metadata.name": "p", "metadata.namespace": "default", "spec.nodeName": "n1", "spec.restartPolicy": "Always",
		"spec.schedulerName": "default-scheduler", "spec.serviceAccountName": "sa", "spec.hostNetwork": "true",
		"status.phase": "Running", "status.podIP": "10.42.0.5", "status.nominatedNodeName": "n2",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestPodGracePeriod(t *testing.T) {
	tests := []struct {
		name     string
		nodeName string
		phase    corev1.PodPhase
		spec     *int64
		opts     *metav1.DeleteOptions
		want     int64
	}{
		{"unscheduled", "", corev1.PodPending, ptr.To[int64](30), nil, 0},
		{"scheduled, spec", "n1", corev1.PodRunning, ptr.To[int64](45), nil, 45},
		{"scheduled, no spec", "n1", corev1.PodRunning, nil, nil, 30},
		{"scheduled, options", "n1", corev1.PodRunning, ptr.To[int64](45), &metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](5)}, 5},
		{"force", "n1", corev1.PodRunning, ptr.To[int64](45), &metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}, 0},
		{"succeeded", "n1", corev1.PodSucceeded, ptr.To[int64](45), nil, 0},
		{"failed", "n1", corev1.PodFailed, ptr.To[int64](45), &metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](5)}, 0},
		{"negative spec", "n1", corev1.PodRunning, ptr.To[int64](-1), nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := minimalPod()
			pod.Spec.NodeName, pod.Status.Phase, pod.Spec.TerminationGracePeriodSeconds = tt.nodeName, tt.phase, tt.spec
			if got := newPodStrategy().GracePeriod(pod, tt.opts); got != tt.want {
				t.Errorf("GracePeriod = %d, want %d", got, tt.want)
			}
		})
	}
}
