package kubelet

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/tugcluster/tug/internal/quota/quotatest"
)

// portPod is a pod whose one container asks for the host ports given as
// protocol/hostIP/port triples.
func portPod(name string, ports ...corev1.ContainerPort) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns1", UID: types.UID("uid-" + name)},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox", Ports: ports}}},
	}
}

func hostPort(protocol corev1.Protocol, ip string, port int32) corev1.ContainerPort {
	return corev1.ContainerPort{Protocol: protocol, HostIP: ip, HostPort: port, ContainerPort: 8080}
}

func TestAdmitDecision(t *testing.T) {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-a", Labels: map[string]string{"disk": "ssd"}}}
	withSelector := func(p *corev1.Pod, sel map[string]string) *corev1.Pod {
		p.Spec.NodeSelector = sel
		return p
	}
	withNameAffinity := func(p *corev1.Pod, name string) *corev1.Pod {
		p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchFields: []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{name}}},
			}}},
		}}
		return p
	}
	withInitPort := func(p *corev1.Pod, port corev1.ContainerPort) *corev1.Pod {
		p.Spec.InitContainers = []corev1.Container{{Name: "i", Image: "busybox", Ports: []corev1.ContainerPort{port}}}
		return p
	}
	nodePorts := &rejection{reason: "NodePorts",
		message: "Pod was rejected: Predicate NodePorts failed: node(s) didn't have free ports for the requested pod ports"}
	nodeAffinity := &rejection{reason: "NodeAffinity",
		message: "Pod was rejected: Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector"}
	for _, tc := range []struct {
		name   string
		pod    *corev1.Pod
		node   *corev1.Node
		others []*corev1.Pod
		want   *rejection
	}{{
		name:   "no ports, no selector",
		pod:    portPod("p"),
		others: []*corev1.Pod{portPod("o", hostPort(corev1.ProtocolTCP, "", 80))},
	}, {
		name: "a free host port",
		pod:  portPod("p", hostPort(corev1.ProtocolTCP, "", 80)),
		others: []*corev1.Pod{portPod("o", hostPort(corev1.ProtocolTCP, "", 81)),
			portPod("container-port-only", corev1.ContainerPort{ContainerPort: 80})},
	}, {
		name:   "the same port on all addresses",
		pod:    portPod("p", hostPort(corev1.ProtocolTCP, "", 80)),
		others: []*corev1.Pod{portPod("o", hostPort(corev1.ProtocolTCP, "", 80))},
		want:   nodePorts,
	}, {
		name:   "an empty protocol is TCP",
		pod:    portPod("p", hostPort("", "", 80)),
		others: []*corev1.Pod{portPod("o", hostPort(corev1.ProtocolTCP, "0.0.0.0", 80))},
		want:   nodePorts,
	}, {
		name:   "same port, other protocol",
		pod:    portPod("p", hostPort(corev1.ProtocolUDP, "", 80)),
		others: []*corev1.Pod{portPod("o", hostPort(corev1.ProtocolTCP, "", 80))},
	}, {
		name:   "same port and protocol on different host IPs",
		pod:    portPod("p", hostPort(corev1.ProtocolTCP, "127.0.0.2", 80)),
		others: []*corev1.Pod{portPod("o", hostPort(corev1.ProtocolTCP, "127.0.0.1", 80))},
	}, {
		name:   "a specific host IP against all addresses",
		pod:    portPod("p", hostPort(corev1.ProtocolTCP, "127.0.0.1", 80)),
		others: []*corev1.Pod{portPod("o", hostPort(corev1.ProtocolTCP, "", 80))},
		want:   nodePorts,
	}, {
		name:   "all addresses against a specific host IP",
		pod:    portPod("p", hostPort(corev1.ProtocolTCP, "0.0.0.0", 80)),
		others: []*corev1.Pod{portPod("o", hostPort(corev1.ProtocolTCP, "127.0.0.1", 80))},
		want:   nodePorts,
	}, {
		name:   "an init container's port counts",
		pod:    withInitPort(portPod("p"), hostPort(corev1.ProtocolSCTP, "", 90)),
		others: []*corev1.Pod{portPod("o", hostPort(corev1.ProtocolSCTP, "", 90))},
		want:   nodePorts,
	}, {
		name: "a matching node selector",
		pod:  withSelector(portPod("p"), map[string]string{"disk": "ssd"}),
		node: node,
	}, {
		name: "a node selector the node does not match",
		pod:  withSelector(portPod("p"), map[string]string{"disk": "hdd"}),
		node: node,
		want: nodeAffinity,
	}, {
		name: "required node affinity naming the node",
		pod:  withNameAffinity(portPod("p"), "node-a"),
		node: node,
	}, {
		name: "required node affinity naming another node",
		pod:  withNameAffinity(portPod("p"), "node-b"),
		node: node,
		want: nodeAffinity,
	}, {
		name:   "node affinity is reported before host ports",
		pod:    withSelector(portPod("p", hostPort(corev1.ProtocolTCP, "", 80)), map[string]string{"disk": "hdd"}),
		node:   node,
		others: []*corev1.Pod{portPod("o", hostPort(corev1.ProtocolTCP, "", 80))},
		want:   nodeAffinity,
	}, {
		name: "a selector without the node",
		pod:  withSelector(portPod("p"), map[string]string{"disk": "ssd"}),
		want: &rejection{reason: "InvalidNodeInfo", message: "Kubelet cannot get node info."},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got := admitDecision(tc.pod, tc.node, tc.others)
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(rejection{})); diff != "" {
				t.Errorf("admitDecision (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAdmittedPods checks which pods a new pod is checked against: those
// admitted in this run or started before a restart, not finished; and that
// pods gone from the cache are forgotten.
func TestAdmittedPods(t *testing.T) {
	started := func(p *corev1.Pod) *corev1.Pod {
		p.Status.StartTime = &metav1.Time{Time: t0}
		return p
	}
	phase := func(p *corev1.Pod, ph corev1.PodPhase) *corev1.Pod {
		p.Status.Phase = ph
		return p
	}
	k := &Kubelet{pods: cache.NewSharedIndexInformer(&cache.ListWatch{}, &corev1.Pod{}, 0, cache.Indexers{})}
	for _, p := range []*corev1.Pod{
		portPod("self"),
		portPod("admitted"),
		started(portPod("from-before-restart")),
		portPod("not-yet-admitted"),
		started(portPod("rejected")),
		phase(portPod("admitted-then-failed"), corev1.PodFailed),
		phase(started(portPod("succeeded")), corev1.PodSucceeded),
	} {
		if err := k.pods.GetStore().Add(p); err != nil {
			t.Fatal(err)
		}
	}
	k.admission.admitted = map[types.UID]bool{
		"uid-admitted": true, "uid-rejected": false, "uid-admitted-then-failed": true, "uid-gone": true,
	}
	var names []string
	for _, p := range k.admittedPods("uid-self") {
		names = append(names, p.Name)
	}
	slices.Sort(names)
	if diff := cmp.Diff([]string{"admitted", "from-before-restart"}, names); diff != "" {
		t.Errorf("admitted pods (-want +got):\n%s", diff)
	}
	if _, ok := k.admission.admitted["uid-gone"]; ok {
		t.Error("a pod gone from the cache is still remembered")
	}
	if !k.admission.admitted["uid-admitted"] {
		t.Error("a pod still in the cache was forgotten")
	}
}

func TestResourceShortfall(t *testing.T) {
	requesting := func(name string, kv ...string) *corev1.Pod {
		p := portPod(name)
		p.Spec.Containers[0].Resources.Requests = quotatest.List(kv...)
		return p
	}
	allocatable := quotatest.List("cpu", "2", "memory", "1Gi", "pods", "3")
	running := []*corev1.Pod{requesting("a", "cpu", "1500m", "memory", "512Mi"), requesting("b")}
	cases := []struct {
		name        string
		pod         *corev1.Pod
		others      []*corev1.Pod
		allocatable corev1.ResourceList
		want        *rejection
	}{
		{name: "fits", pod: requesting("p", "cpu", "500m", "memory", "512Mi"), others: running, allocatable: allocatable},
		{name: "no requests fit anywhere", pod: requesting("p"), others: running, allocatable: allocatable},
		{name: "cpu", pod: requesting("p", "cpu", "600m"), others: running, allocatable: allocatable,
			want: &rejection{reason: "OutOfcpu", message: "Pod was rejected: Node didn't have enough resource: cpu, requested: 600, used: 1500, capacity: 2000"}},
		{name: "memory", pod: requesting("p", "memory", "768Mi"), others: running, allocatable: allocatable,
			want: &rejection{reason: "OutOfmemory", message: "Pod was rejected: Node didn't have enough resource: memory, requested: 805306368, used: 536870912, capacity: 1073741824"}},
		{name: "pods", pod: requesting("p"), others: append(slices.Clone(running), requesting("c")), allocatable: allocatable,
			want: &rejection{reason: "OutOfpods", message: "Pod was rejected: Node didn't have enough resource: pods, requested: 1, used: 3, capacity: 3"}},
		{name: "extended resource the node lacks", pod: requesting("p", "example.com/gpu", "1"), allocatable: allocatable,
			want: &rejection{reason: "OutOfexample.com/gpu", message: "Pod was rejected: Node didn't have enough resource: example.com/gpu, requested: 1, used: 0, capacity: 0"}},
		{name: "allocatable not known yet", pod: requesting("p", "cpu", "64"), others: running},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := resourceShortfall(tc.pod, tc.allocatable, tc.others)
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(rejection{})); diff != "" {
				t.Errorf("rejection (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAdmitOnNodeTaints: a pod bound straight to a node with a NoExecute
// taint it does not tolerate is refused with upstream's kubelet wording;
// NoSchedule taints are the scheduler's business, and a matching
// toleration (whatever its tolerationSeconds) admits the pod.
func TestAdmitOnNodeTaints(t *testing.T) {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Spec: corev1.NodeSpec{Taints: []corev1.Taint{
		{Key: "example.com/maintenance", Value: "yes", Effect: corev1.TaintEffectNoExecute},
		{Key: "example.com/gpu", Effect: corev1.TaintEffectNoSchedule},
	}}}
	tolerating := func(tol ...corev1.Toleration) *corev1.Pod {
		p := portPod("p")
		p.Spec.Tolerations = tol
		return p
	}
	seconds := int64(600)
	refused := &rejection{reason: "TaintToleration",
		message: "Pod was rejected: Predicate TaintToleration failed: node(s) had taints that the pod didn't tolerate"}
	cases := []struct {
		name string
		pod  *corev1.Pod
		want *rejection
	}{
		{name: "no toleration", pod: tolerating(), want: refused},
		{name: "other key", pod: tolerating(corev1.Toleration{Key: "example.com/other", Operator: corev1.TolerationOpExists}), want: refused},
		{name: "NoSchedule only", pod: tolerating(corev1.Toleration{Key: "example.com/maintenance", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}), want: refused},
		{name: "tolerated", pod: tolerating(corev1.Toleration{Key: "example.com/maintenance", Operator: corev1.TolerationOpEqual, Value: "yes", Effect: corev1.TaintEffectNoExecute})},
		{name: "tolerated for a while", pod: tolerating(corev1.Toleration{Key: "example.com/maintenance", Operator: corev1.TolerationOpExists, TolerationSeconds: &seconds})},
		{name: "everything", pod: tolerating(corev1.Toleration{Operator: corev1.TolerationOpExists})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := admitOnNode(klog.Background(), tc.pod, node, nil, nil)
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(rejection{})); diff != "" {
				t.Errorf("rejection (-want +got):\n%s", diff)
			}
		})
	}
	// A node without taints admits; a resource shortfall is reported first.
	if rej := admitOnNode(klog.Background(), portPod("p"), &corev1.Node{}, nil, nil); rej != nil {
		t.Errorf("untainted node: %+v", rej)
	}
	big := portPod("big")
	big.Spec.Containers[0].Resources.Requests = quotatest.List("cpu", "4")
	if rej := admitOnNode(klog.Background(), big, node, quotatest.List("cpu", "2"), nil); rej == nil || rej.reason != "OutOfcpu" {
		t.Errorf("shortfall on a tainted node: %+v, want OutOfcpu first", rej)
	}
}
