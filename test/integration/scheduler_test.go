package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"github.com/tugcluster/tug/internal/server"
	"github.com/tugcluster/tug/internal/testutil"
)

func schedulerTestNode(name, zone string, taints ...corev1.Taint) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
			"kubernetes.io/hostname": name, "topology.kubernetes.io/zone": zone,
		}},
		Spec: corev1.NodeSpec{Taints: taints},
		Status: corev1.NodeStatus{
			Capacity:    corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("4Gi"), corev1.ResourcePods: resource.MustParse("110")},
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("4Gi"), corev1.ResourcePods: resource.MustParse("110")},
			Conditions:  []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady"}},
		},
	}
}

func schedulerTestPod(name, cpu string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "app", Image: "registry.k8s.io/pause:3.10",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}},
		}}},
	}
}

// TestScheduler runs the scheduler inside a real server: pods land on
// nodes that fit, a pod that fits nowhere says why as kube-scheduler
// would, and pods of another scheduler are left to it.
func TestScheduler(t *testing.T) {
	s := testutil.StartServer(t, func(o *server.Options) {
		o.NodeMonitorGracePeriod = time.Hour // the nodes have no kubelet renewing leases
	})
	ctx := t.Context()
	client := s.Client
	pods := client.CoreV1().Pods("default")
	dedicated := corev1.Taint{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}
	for _, n := range []*corev1.Node{
		schedulerTestNode("node-a", "a"), schedulerTestNode("node-b", "b"), schedulerTestNode("node-c", "c", dedicated),
	} {
		if _, err := client.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create node: %v", err)
		}
	}

	// A pod for another scheduler, created first: the default scheduler
	// must leave it alone while it places the pods after it.
	custom := schedulerTestPod("custom", "100m")
	custom.Spec.SchedulerName = "my-scheduler"
	if _, err := pods.Create(ctx, custom, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create pod: %v", err)
	}
	// Pods already on their nodes (bound by whoever created them) take
	// 1 cpu of node-a and node-b and 1.5 of node-c.
	for node, cpu := range map[string]string{"node-a": "1", "node-b": "1", "node-c": "1500m"} {
		pinned := schedulerTestPod("pinned-"+node, cpu)
		pinned.Spec.NodeName = node
		if _, err := pods.Create(ctx, pinned, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create pod: %v", err)
		}
	}
	small := []string{"small-1", "small-2", "small-3", "small-4"}
	for _, name := range small {
		if _, err := pods.Create(ctx, schedulerTestPod(name, "250m"), metav1.CreateOptions{}); err != nil {
			t.Fatalf("create pod: %v", err)
		}
	}
	// big would fit an empty node but no node has 1.5 cpu left, and no
	// pod has a lower priority to preempt; huge fits no node at all.
	tolerateAll := []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
	for name, cpu := range map[string]string{"big": "1500m", "huge": "3"} {
		p := schedulerTestPod(name, cpu)
		p.Spec.Tolerations = tolerateAll
		if _, err := pods.Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create pod: %v", err)
		}
	}

	get := func(name string) *corev1.Pod {
		t.Helper()
		p, err := pods.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get pod %s: %v", name, err)
		}
		return p
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		if err := wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
			return cond(), nil
		}); err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
	}
	for _, name := range small {
		waitFor(name+" to be bound", func() bool { return get(name).Spec.NodeName != "" })
		p := get(name)
		if p.Spec.NodeName != "node-a" && p.Spec.NodeName != "node-b" {
			t.Errorf("%s bound to %s, want node-a or node-b (node-c is tainted)", name, p.Spec.NodeName)
		}
		if !hasCondition(p, corev1.PodScheduled, corev1.ConditionTrue, "") {
			t.Errorf("%s has no PodScheduled=True condition: %+v", name, p.Status.Conditions)
		}
	}

	const wantMessage = "0/3 nodes are available: 3 Insufficient cpu. " +
		"preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."
	for name, want := range map[string]string{
		"big":  wantMessage,
		"huge": "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
	} {
		waitFor(name+"'s PodScheduled condition", func() bool {
			return hasCondition(get(name), corev1.PodScheduled, corev1.ConditionFalse, "")
		})
		if p := get(name); !hasCondition(p, corev1.PodScheduled, corev1.ConditionFalse, corev1.PodReasonUnschedulable) ||
			conditionMessage(p, corev1.PodScheduled) != want || p.Spec.NodeName != "" {
			t.Errorf("%s: node %q, conditions %+v; want unscheduled with message %q", name, p.Spec.NodeName, p.Status.Conditions, want)
		}
		waitFor(name+"'s FailedScheduling event", func() bool { return hasEvent(ctx, t, client, name, "FailedScheduling", want) })
	}
	waitFor("a Scheduled event", func() bool {
		p := get("small-1")
		return hasEvent(ctx, t, client, "small-1", "Scheduled", "Successfully assigned default/small-1 to "+p.Spec.NodeName)
	})

	if p := get("custom"); p.Spec.NodeName != "" || len(p.Status.Conditions) != 0 {
		t.Fatalf("the default scheduler touched a pod of my-scheduler: node %q, conditions %+v", p.Spec.NodeName, p.Status.Conditions)
	}
	runCustomScheduler(ctx, t, client)
	waitFor("my-scheduler to bind its pod", func() bool { return get("custom").Spec.NodeName == "node-a" })

	out, err := s.RunKubectl(t, testutil.Kubectl(t, "1.33"), "", "get", "pods", "-o", "wide")
	if err != nil {
		t.Fatalf("kubectl get pods -o wide: %v\n%s", err, out)
	}
	for _, name := range append(small, "custom") {
		if line := lineOf(out, name); !strings.Contains(line, get(name).Spec.NodeName) {
			t.Errorf("kubectl shows %q for %s, want its node %s:\n%s", line, name, get(name).Spec.NodeName, out)
		}
	}
	for _, name := range []string{"big", "huge"} {
		if line := lineOf(out, name); !strings.Contains(line, "Pending") || !strings.Contains(line, "<none>") {
			t.Errorf("kubectl shows %q for %s, want Pending on <none>:\n%s", line, name, out)
		}
	}

	out, err = s.RunKubectl(t, testutil.Kubectl(t, "1.33"), "", "describe", "pod", "big")
	if err != nil {
		t.Fatalf("kubectl describe pod big: %v\n%s", err, out)
	}
	if !strings.Contains(out, "Warning  FailedScheduling") || !strings.Contains(out, wantMessage) {
		t.Errorf("kubectl describe does not show the FailedScheduling event:\n%s", out)
	}

	lease, err := client.CoordinationV1().Leases("kube-system").Get(ctx, "tug-scheduler", metav1.GetOptions{})
	if err != nil || lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity == "" {
		t.Errorf("scheduler lease: %v %+v", err, lease)
	}
}

// runCustomScheduler is a scheduler in a few lines: it watches pods of
// my-scheduler and binds each pending one to the first node.
func runCustomScheduler(ctx context.Context, t *testing.T, client kubernetes.Interface) {
	w, err := client.CoreV1().Pods("").Watch(ctx, metav1.ListOptions{FieldSelector: "spec.schedulerName=my-scheduler"})
	if err != nil {
		t.Fatalf("watch: %v", err)
	}
	t.Cleanup(w.Stop)
	go func() {
		for ev := range w.ResultChan() {
			pod, ok := ev.Object.(*corev1.Pod)
			if !ok || ev.Type == watch.Deleted || pod.Spec.NodeName != "" {
				continue
			}
			nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
			if err != nil || len(nodes.Items) == 0 {
				continue
			}
			_ = client.CoreV1().Pods(pod.Namespace).Bind(ctx, &corev1.Binding{
				ObjectMeta: metav1.ObjectMeta{Name: pod.Name, UID: pod.UID},
				Target:     corev1.ObjectReference{Kind: "Node", Name: nodes.Items[0].Name},
			}, metav1.CreateOptions{})
		}
	}()
}

func hasCondition(p *corev1.Pod, typ corev1.PodConditionType, status corev1.ConditionStatus, reason string) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == typ && c.Status == status && (reason == "" || c.Reason == reason) {
			return true
		}
	}
	return false
}

func conditionMessage(p *corev1.Pod, typ corev1.PodConditionType) string {
	for _, c := range p.Status.Conditions {
		if c.Type == typ {
			return c.Message
		}
	}
	return ""
}

// hasEvent reports whether an events.k8s.io Event about pod has reason
// and note, reported by default-scheduler.
func hasEvent(ctx context.Context, t *testing.T, client kubernetes.Interface, pod, reason, note string) bool {
	t.Helper()
	list, err := client.EventsV1().Events("default").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list events: %v", err)
	}
	for _, e := range list.Items {
		if e.Regarding.Name == pod && e.Reason == reason && e.Note == note && e.ReportingController == "default-scheduler" {
			return true
		}
	}
	return false
}

func lineOf(out, name string) string {
	for _, line := range strings.Split(out, "\n") {
		if fields := strings.Fields(line); len(fields) > 0 && fields[0] == name {
			return line
		}
	}
	return ""
}
