package simulated

import (
	"fmt"
	"net/netip"
	"runtime"
	"testing"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"
)

// BenchmarkCacheMemory measures what the agent keeps per node and per pod
// at the scale the agent is built for, 5,000 nodes and 150,000 pods: the
// cached slim objects, the pod index, the leases and the pod addresses.
// Run with -benchtime=1x; it reports B/pod and the heap in MiB.
func BenchmarkCacheMemory(b *testing.B) {
	const nodes, pods = 5000, 150000
	for b.Loop() {
		cfg := testConfig()
		cfg.Nodes = nodes
		before := heapInUse()
		s, err := New(fake.NewClientset(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		for i := range nodes {
			node := buildNode(&s.cfg, i, t0)
			node.UID = types.UID(fmt.Sprintf("00000000-0000-0000-0000-%012d", i))
			node.Spec.PodCIDR = fmt.Sprintf("100.%d.%d.0/24", 64+i/256, i%256)
			slim, _ := slimNode(node)
			if err := s.nodeInformer.GetStore().Add(slim); err != nil {
				b.Fatal(err)
			}
			renew := metav1.NewMicroTime(t0)
			s.nodes[i].lease = &coordinationv1.Lease{
				ObjectMeta: metav1.ObjectMeta{Name: node.Name, Namespace: corev1.NamespaceNodeLease, UID: node.UID, ResourceVersion: "123456"},
				Spec:       coordinationv1.LeaseSpec{HolderIdentity: &node.Name, RenewTime: &renew},
			}
		}
		afterNodes := heapInUse()
		for i := range pods {
			pod := benchPod(i, NodeName("sim-", i%nodes))
			obj, _ := slimPod(pod, s.canonicalName)
			if err := s.podInformer.GetIndexer().Add(obj); err != nil {
				b.Fatal(err)
			}
			key, _ := cache.MetaNamespaceKeyFunc(obj)
			cidr := netip.MustParsePrefix(fmt.Sprintf("100.%d.%d.0/24", 64+(i%nodes)/256, (i%nodes)%256))
			if _, _, err := s.ips.assign(key, pod.UID, pod.Spec.NodeName, cidr, t0); err != nil {
				b.Fatal(err)
			}
		}
		afterPods := heapInUse()
		b.ReportMetric(float64(afterNodes-before)/nodes, "B/node")
		b.ReportMetric(float64(afterPods-afterNodes)/pods, "B/pod")
		b.ReportMetric(float64(afterPods-before)/(1<<20), "MiB")
		runtime.KeepAlive(s)
	}
}

func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// benchPod is a pod as the API server sends it: defaulted, with a
// Deployment's labels and owner, running.
func benchPod(i int, node string) *corev1.Pod {
	start := metav1.NewTime(t0)
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: fmt.Sprintf("web-7d9f8b6c5d-%07d", i), Namespace: "shop",
			UID:             types.UID(fmt.Sprintf("11111111-2222-3333-4444-%012d", i)),
			ResourceVersion: fmt.Sprint(1000000 + i),
			Labels:          map[string]string{"app": "web", "pod-template-hash": "7d9f8b6c5d"},
		},
		Spec: corev1.PodSpec{
			NodeName: node, RestartPolicy: corev1.RestartPolicyAlways,
			Containers: []corev1.Container{{Name: "web", Image: "registry.example.com/shop/web:v1.2.3"}},
		},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "100.64.0.2", StartTime: &start},
	}
}
