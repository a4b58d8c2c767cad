package node

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tugcluster/tug/internal/testutil"
	"github.com/tugcluster/tug/internal/testutil/nodetest"
)

// TestInPlaceResize resizes the containers of a running pod through
// pods/resize: the kubelet changes the cgroup limits the containers see
// without restarting one whose policy does not ask for it, restarts the
// one whose memory policy is RestartContainer, reports the new resources
// in status, and holds a resize the node cannot take as Infeasible.
func TestInPlaceResize(t *testing.T) {
	c := nodetest.StartCluster(t, 1)
	ctx := context.Background()
	pod := busybox("resize", "sleep 3600")
	pod.Spec.Containers[0].Resources = resources("100m", "200m", "32Mi", "64Mi")
	second := pod.Spec.Containers[0]
	second.Name = "restarter"
	second.Resources = resources("50m", "100m", "16Mi", "32Mi")
	second.ResizePolicy = []corev1.ContainerResizePolicy{{ResourceName: corev1.ResourceMemory, RestartPolicy: corev1.RestartContainer}}
	pod.Spec.Containers = append(pod.Spec.Containers, second)
	create(t, c.Client, pod)
	waitPod(t, c.Client, pod.Namespace, pod.Name, 60*time.Second, "running", running)
	checkCgroups(t, c, "main", "100m", "200m", "64Mi")
	checkCgroups(t, c, "restarter", "50m", "100m", "32Mi")

	patch := `{"spec":{"containers":[` +
		`{"name":"main","resources":{"requests":{"cpu":"150m"},"limits":{"cpu":"300m","memory":"96Mi"}}},` +
		`{"name":"restarter","resources":{"limits":{"memory":"48Mi"}}}]}}`
	if _, err := c.Client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}, "resize"); err != nil {
		t.Fatal(err)
	}
	wantMain, wantRestarter := resources("150m", "300m", "32Mi", "96Mi"), resources("50m", "100m", "16Mi", "48Mi")
	got := waitPod(t, c.Client, pod.Namespace, pod.Name, 60*time.Second, "resized", func(p *corev1.Pod) bool {
		return running(p) && !hasResizeCondition(p) && statusResources(p, "main", wantMain) && statusResources(p, "restarter", wantRestarter)
	})
	for _, cs := range got.Status.ContainerStatuses {
		want := map[string]int32{"main": 0, "restarter": 1}[cs.Name]
		if cs.RestartCount != want {
			t.Errorf("container %s restarted %d times, want %d", cs.Name, cs.RestartCount, want)
		}
		if q := cs.AllocatedResources[corev1.ResourceCPU]; cs.Name == "main" && q.String() != "150m" {
			t.Errorf("main allocatedResources cpu %s, want 150m", q.String())
		}
	}
	checkCgroups(t, c, "main", "150m", "300m", "96Mi")
	checkCgroups(t, c, "restarter", "50m", "100m", "48Mi")

	// More CPU than the node has: the resize waits, nothing changes.
	huge := `{"spec":{"containers":[{"name":"main","resources":{"requests":{"cpu":"1000"},"limits":{"cpu":"1000"}}}]}}`
	if _, err := c.Client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, []byte(huge), metav1.PatchOptions{}, "resize"); err != nil {
		t.Fatal(err)
	}
	got = waitPod(t, c.Client, pod.Namespace, pod.Name, 60*time.Second, "resize pending", func(p *corev1.Pod) bool {
		for _, cond := range p.Status.Conditions {
			if cond.Type == corev1.PodResizePending && cond.Reason == "Infeasible" {
				return true
			}
		}
		return false
	})
	if !statusResources(got, "main", wantMain) {
		t.Errorf("status resources changed by an infeasible resize: %+v", got.Status.ContainerStatuses)
	}
	checkCgroups(t, c, "main", "150m", "300m", "96Mi")
}

func resources(cpuReq, cpuLim, memReq, memLim string) corev1.ResourceRequirements {
	return corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpuReq), corev1.ResourceMemory: resource.MustParse(memReq)},
		Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpuLim), corev1.ResourceMemory: resource.MustParse(memLim)},
	}
}

func hasResizeCondition(p *corev1.Pod) bool {
	for _, cond := range p.Status.Conditions {
		if cond.Type == corev1.PodResizePending || cond.Type == corev1.PodResizeInProgress {
			return true
		}
	}
	return false
}

// statusResources reports whether container name's status shows want.
func statusResources(p *corev1.Pod, name string, want corev1.ResourceRequirements) bool {
	for _, cs := range p.Status.ContainerStatuses {
		if cs.Name == name && cs.Resources != nil {
			return sameList(cs.Resources.Requests, want.Requests) && sameList(cs.Resources.Limits, want.Limits)
		}
	}
	return false
}

func sameList(a, b corev1.ResourceList) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || v.Cmp(w) != 0 {
			return false
		}
	}
	return true
}

// checkCgroups reads the CPU weight, CPU quota and memory limit container
// sees in its cgroups (v2 or v1) and compares them with what Kubernetes
// derives from the resources.
func checkCgroups(t *testing.T, c *nodetest.Cluster, container, cpuReq, cpuLim, memLim string) {
	t.Helper()
	req, lim, mem := resource.MustParse(cpuReq), resource.MustParse(cpuLim), resource.MustParse(memLim)
	shares := max(req.MilliValue()*1024/1000, 2)
	quota := max(lim.MilliValue()*100000/1000, 1000)
	script := `if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  echo "$(cat /sys/fs/cgroup/cpu.weight)|$(cat /sys/fs/cgroup/cpu.max)|$(cat /sys/fs/cgroup/memory.max)"
else
  echo "v1 $(cat /sys/fs/cgroup/cpu/cpu.shares)|$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) 100000|$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"
fi`
	out, err := c.RunKubectlStdout(t, testutil.Kubectl(t, "1.33"), "", "exec", "resize", "-c", container, "--", "sh", "-c", script)
	if err != nil {
		t.Fatalf("read cgroups of %s: %v\n%s", container, err, out)
	}
	out = strings.TrimSpace(out)
	weight := strconv.FormatInt(1+((shares-2)*9999)/262142, 10)
	if v1, ok := strings.CutPrefix(out, "v1 "); ok {
		out, weight = v1, strconv.FormatInt(shares, 10)
	}
	want := fmt.Sprintf("%s|%d 100000|%d", weight, quota, mem.Value())
	if out != want {
		t.Errorf("cgroups of %s (weight|cpu.max|memory) = %q, want %q", container, out, want)
	}
}
