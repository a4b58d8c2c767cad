package kubelet

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func reqLim(cpuReq, cpuLim, memReq, memLim string) corev1.ResourceRequirements {
	list := func(cpu, mem string) corev1.ResourceList {
		out := corev1.ResourceList{}
		if cpu != "" {
			out[corev1.ResourceCPU] = resource.MustParse(cpu)
		}
		if mem != "" {
			out[corev1.ResourceMemory] = resource.MustParse(mem)
		}
		return out
	}
	return corev1.ResourceRequirements{Requests: list(cpuReq, memReq), Limits: list(cpuLim, memLim)}
}

// Equivalent quantities are the same resources; a resize that touches a
// resource whose policy is RestartContainer needs a restart, others not.
func TestResizeComparisons(t *testing.T) {
	a := reqLim("100m", "0.2", "64Mi", "128Mi")
	if !sameResources(a, reqLim("0.1", "200m", "67108864", "128Mi"), nil) {
		t.Error("equivalent quantities compare different")
	}
	b := reqLim("100m", "300m", "64Mi", "128Mi")
	if sameResources(a, b, nil) || !sameResources(a, b, []corev1.ResourceName{corev1.ResourceMemory}) {
		t.Error("a CPU limit change is not seen as one")
	}
	if sameResources(a, reqLim("100m", "", "64Mi", "128Mi"), nil) {
		t.Error("a removed limit compares the same")
	}
	c := &corev1.Container{Name: "c", ResizePolicy: []corev1.ContainerResizePolicy{
		{ResourceName: corev1.ResourceCPU, RestartPolicy: corev1.NotRequired},
		{ResourceName: corev1.ResourceMemory, RestartPolicy: corev1.RestartContainer},
	}}
	if restartNeeded(c, a, b) {
		t.Error("a CPU change restarts a container whose CPU policy is NotRequired")
	}
	if !restartNeeded(c, a, reqLim("100m", "200m", "64Mi", "256Mi")) {
		t.Error("a memory change does not restart a container whose memory policy is RestartContainer")
	}
}

// resizeFits: more than the node has is Infeasible, more than is free
// beside the other pods is Deferred.
func TestResizeFits(t *testing.T) {
	k := &Kubelet{}
	k.node.allocatable = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("1Gi")}
	k.pods = cache.NewSharedIndexInformer(&cache.ListWatch{}, &corev1.Pod{}, 0, cache.Indexers{})
	other := testPod(corev1.RestartPolicyAlways, nil, "c")
	other.UID, other.Name = "other", "other"
	other.Spec.Containers[0].Resources = reqLim("1500m", "", "256Mi", "")
	if err := k.pods.GetStore().Add(other); err != nil {
		t.Fatal(err)
	}
	pod := testPod(corev1.RestartPolicyAlways, []corev1.Container{sidecarC("side")}, "c")
	for _, tt := range []struct {
		name          string
		main, sidecar corev1.ResourceRequirements
		want          string
	}{
		{"fits", reqLim("250m", "", "512Mi", ""), reqLim("250m", "", "", ""), ""},
		{"sidecars count", reqLim("250m", "", "", ""), reqLim("500m", "", "", ""), reasonResizeDeferred},
		{"beyond the node", reqLim("3", "", "", ""), reqLim("", "", "", ""), reasonResizeInfeasible},
		{"memory held by others", reqLim("", "", "900Mi", ""), reqLim("", "", "", ""), reasonResizeDeferred},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pod.Spec.Containers[0].Resources, pod.Spec.InitContainers[0].Resources = tt.main, tt.sidecar
			if got, msg := k.resizeFits(pod); got != tt.want {
				t.Errorf("resizeFits = %q (%s), want %q", got, msg, tt.want)
			}
		})
	}
}

// The resize conditions follow what the kubelet knows: pending while not
// admitted, in progress while a running container lacks its allocation,
// and none once it has it or the pod has finished.
func TestResizeConditions(t *testing.T) {
	k := &Kubelet{}
	pod := testPod(corev1.RestartPolicyAlways, nil, "c")
	pod.Generation = 3
	pod.Spec.Containers[0].Resources = reqLim("100m", "", "", "")
	state := &podRuntime{
		sandboxes:  []*runtimeapi.PodSandbox{sandbox("sb", 0, true)},
		containers: []*containerState{{id: "c1", sandboxID: "sb", name: "c", status: &runtimeapi.ContainerStatus{State: runtimeapi.ContainerState_CONTAINER_RUNNING}}},
	}
	k.resize.noteApplied(pod.UID, "c1", reqLim("100m", "", "", ""))
	k.resize.allocation(pod)
	now := metav1.Now()
	conditions := func(phase corev1.PodPhase) []corev1.PodCondition {
		s := &corev1.PodStatus{Phase: phase, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}
		k.setResizeConditions(pod, state, s, now)
		for i := range s.Conditions {
			s.Conditions[i].LastTransitionTime = metav1.Time{}
		}
		return s.Conditions
	}
	ready := corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionTrue}
	if diff := cmp.Diff([]corev1.PodCondition{ready}, conditions(corev1.PodRunning)); diff != "" {
		t.Errorf("resized pod (-want +got):\n%s", diff)
	}

	k.resize.setPending(pod.UID, reasonResizeInfeasible, "too big")
	pod.Spec.Containers[0].Resources = reqLim("200m", "", "", "")
	want := []corev1.PodCondition{ready, {Type: corev1.PodResizePending, Status: corev1.ConditionTrue, Reason: reasonResizeInfeasible, Message: "too big", ObservedGeneration: 3}}
	if diff := cmp.Diff(want, conditions(corev1.PodRunning)); diff != "" {
		t.Errorf("infeasible resize (-want +got):\n%s", diff)
	}

	k.resize.allocate(pod)
	want = []corev1.PodCondition{ready, {Type: corev1.PodResizeInProgress, Status: corev1.ConditionTrue, ObservedGeneration: 3}}
	if diff := cmp.Diff(want, conditions(corev1.PodRunning)); diff != "" {
		t.Errorf("admitted, not applied (-want +got):\n%s", diff)
	}
	k.resize.setFailed(pod.UID, "no way")
	want[1].Reason, want[1].Message = reasonResizeError, "no way"
	if diff := cmp.Diff(want, conditions(corev1.PodRunning)); diff != "" {
		t.Errorf("failed to apply (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]corev1.PodCondition{ready}, conditions(corev1.PodSucceeded)); diff != "" {
		t.Errorf("finished pod (-want +got):\n%s", diff)
	}

	k.resize.setFailed(pod.UID, "")
	k.resize.noteApplied(pod.UID, "c1", reqLim("200m", "", "", ""))
	if diff := cmp.Diff([]corev1.PodCondition{ready}, conditions(corev1.PodRunning)); diff != "" {
		t.Errorf("applied (-want +got):\n%s", diff)
	}
}

// A restarted kubelet takes a pod's allocation from the resources its
// status reported, and a running container's from the annotation it was
// created with.
func TestResizeStateAfterRestart(t *testing.T) {
	k := &Kubelet{}
	pod := testPod(corev1.RestartPolicyAlways, nil, "a", "b")
	pod.Spec.Containers[0].Resources = reqLim("300m", "", "", "")
	pod.Spec.Containers[1].Resources = reqLim("50m", "", "", "")
	reported := reqLim("100m", "", "", "")
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "a", Resources: &reported}}
	alloc := k.resize.allocation(pod)
	if !sameResources(alloc["a"], reported, nil) || !sameResources(alloc["b"], pod.Spec.Containers[1].Resources, nil) {
		t.Errorf("allocation %v: want a from status, b from the spec", alloc)
	}
	created := reqLim("100m", "200m", "", "64Mi")
	cs := &containerState{id: "x", name: "a", status: &runtimeapi.ContainerStatus{
		Annotations: map[string]string{annotationResources: resourcesAnnotation(created)},
	}}
	if got := k.appliedResources(pod, &pod.Spec.Containers[0], cs); !sameResources(got, created, nil) {
		t.Errorf("applied resources %v, want those of the annotation", got)
	}
}
