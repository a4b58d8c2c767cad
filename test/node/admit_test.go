package node

import (
	"strings"
	"testing"

	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/internal/testutil/nodetest"
)

// TestKubeletAdmission binds pods straight to a node (spec.nodeName, no
// scheduler) and checks that the kubelet refuses those that do not fit
// it, as upstream's does: phase Failed with the predicate as reason.
func TestKubeletAdmission(t *testing.T) {
	c := nodetest.StartCluster(t, 1)
	node := c.Nodes[0].Name
	withHostPort := func(pod *corev1.Pod, protocol corev1.Protocol, hostIP string, port int32) *corev1.Pod {
		pod.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 8080, HostPort: port, HostIP: hostIP, Protocol: protocol}}
		return on(pod, node)
	}
	withSelector := func(pod *corev1.Pod, selector map[string]string) *corev1.Pod {
		pod.Spec.NodeSelector = selector
		return on(pod, node)
	}
	failedWith := func(reason string) func(*corev1.Pod) bool {
		return func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodFailed && p.Status.Reason == reason }
	}

	first := create(t, c.Client, withHostPort(busybox("port-first", "sleep 3600"), corev1.ProtocolTCP, "", 54321))
	waitPod(t, c.Client, first.Namespace, first.Name, 60*time.Second, "running", running)

	t.Run("SameHostPortFails", func(t *testing.T) {
		pod := create(t, c.Client, withHostPort(busybox("port-clash", "sleep 3600"), corev1.ProtocolTCP, "", 54321))
		got := waitPod(t, c.Client, pod.Namespace, pod.Name, 60*time.Second, "Failed with reason NodePorts", failedWith("NodePorts"))
		want := "Pod was rejected: Predicate NodePorts failed: node(s) didn't have free ports for the requested pod ports"
		if got.Status.Message != want {
			t.Errorf("message = %q, want %q", got.Status.Message, want)
		}
		if len(got.Status.ContainerStatuses) > 0 && got.Status.ContainerStatuses[0].State.Running != nil {
			t.Errorf("a rejected pod's container runs: %s", describe(got))
		}
	})
	t.Run("OtherProtocolRuns", func(t *testing.T) {
		pod := create(t, c.Client, withHostPort(busybox("port-udp", "sleep 3600"), corev1.ProtocolUDP, "", 54321))
		waitPod(t, c.Client, pod.Namespace, pod.Name, 60*time.Second, "running", running)
	})
	t.Run("NodeSelectorMismatchFails", func(t *testing.T) {
		pod := create(t, c.Client, withSelector(busybox("selector-other", "sleep 3600"), map[string]string{corev1.LabelHostname: "some-other-node"}))
		got := waitPod(t, c.Client, pod.Namespace, pod.Name, 60*time.Second, "Failed with reason NodeAffinity", failedWith("NodeAffinity"))
		want := "Pod was rejected: Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector"
		if got.Status.Message != want {
			t.Errorf("message = %q, want %q", got.Status.Message, want)
		}
	})
	t.Run("MoreCPUThanTheNodeFails", func(t *testing.T) {
		pod := busybox("too-big", "sleep 3600")
		pod.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1000")}
		pod = create(t, c.Client, on(pod, node))
		got := waitPod(t, c.Client, pod.Namespace, pod.Name, 60*time.Second, "Failed with reason OutOfcpu", failedWith("OutOfcpu"))
		if !strings.HasPrefix(got.Status.Message, "Pod was rejected: Node didn't have enough resource: cpu, requested: 1000000, used: ") {
			t.Errorf("message = %q", got.Status.Message)
		}
	})
	t.Run("NodeSelectorMatchRuns", func(t *testing.T) {
		pod := create(t, c.Client, withSelector(busybox("selector-own", "sleep 3600"), map[string]string{corev1.LabelHostname: node}))
		waitPod(t, c.Client, pod.Namespace, pod.Name, 60*time.Second, "running", running)
	})
}
