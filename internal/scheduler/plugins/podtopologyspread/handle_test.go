package podtopologyspread

import (
	"context"
	"fmt"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// snapshot is a SharedLister over a fixed slice of NodeInfos.
type snapshot struct{ nodes []*framework.NodeInfo }

func (s *snapshot) NodeInfos() framework.NodeInfoLister { return s }

func (s *snapshot) List() ([]*framework.NodeInfo, error) { return s.nodes, nil }

func (s *snapshot) HavePodsWithAffinityList() ([]*framework.NodeInfo, error) {
	var out []*framework.NodeInfo
	for _, n := range s.nodes {
		if len(n.PodsWithAffinity) > 0 {
			out = append(out, n)
		}
	}
	return out, nil
}

func (s *snapshot) HavePodsWithRequiredAntiAffinityList() ([]*framework.NodeInfo, error) {
	var out []*framework.NodeInfo
	for _, n := range s.nodes {
		if len(n.PodsWithRequiredAntiAffinity) > 0 {
			out = append(out, n)
		}
	}
	return out, nil
}

func (s *snapshot) Get(name string) (*framework.NodeInfo, error) {
	for _, n := range s.nodes {
		if n.NodeName() == name {
			return n, nil
		}
	}
	return nil, fmt.Errorf("node %q not in snapshot", name)
}

// testHandle is the part of the scheduler the plugin sees: a snapshot,
// a fake clientset with informers on it, and a parallel loop.
type testHandle struct {
	snap    *snapshot
	client  *fake.Clientset
	factory informers.SharedInformerFactory
}

var _ framework.Handle = (*testHandle)(nil)

func newTestHandle(nodes []*framework.NodeInfo, objs ...runtime.Object) *testHandle {
	client := fake.NewClientset(objs...)
	return &testHandle{snap: &snapshot{nodes: nodes}, client: client, factory: informers.NewSharedInformerFactory(client, 0)}
}

// start runs the informers the plugins asked for and waits for them.
func (h *testHandle) start(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h.factory.Start(ctx.Done())
	t.Cleanup(func() {
		cancel()
		h.factory.Shutdown()
	})
	for typ, ok := range h.factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			t.Fatalf("informer for %v did not sync", typ)
		}
	}
}

func (h *testHandle) SnapshotSharedLister() framework.SharedLister { return h.snap }

func (h *testHandle) ClientSet() kubernetes.Interface { return h.client }

func (h *testHandle) SharedInformerFactory() informers.SharedInformerFactory { return h.factory }

func (h *testHandle) EventRecorder() events.EventRecorder { return nil }

func (h *testHandle) RunFilterPlugins(context.Context, *framework.CycleState, *corev1.Pod, *framework.NodeInfo) *framework.Status {
	return nil
}

func (h *testHandle) RunPreFilterExtensionAddPod(context.Context, *framework.CycleState, *corev1.Pod, *framework.PodInfo, *framework.NodeInfo) *framework.Status {
	return nil
}

func (h *testHandle) RunPreFilterExtensionRemovePod(context.Context, *framework.CycleState, *corev1.Pod, *framework.PodInfo, *framework.NodeInfo) *framework.Status {
	return nil
}

func (h *testHandle) NominatedPodsForNode(string) []*framework.PodInfo { return nil }

// Parallelize runs work over a few goroutines, each taking a contiguous
// chunk, so that the race detector sees the plugin's concurrent paths.
func (h *testHandle) Parallelize(_ context.Context, n int, work func(i int)) {
	const workers = 4
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for start := 0; start < n; start += chunk {
		end := min(start+chunk, n)
		wg.Go(func() {
			for i := start; i < end; i++ {
				work(i)
			}
		})
	}
	wg.Wait()
}

// newPlugin builds the plugin over nodes and starts its informers.
func newPlugin(t testing.TB, nodes []*framework.NodeInfo, objs ...runtime.Object) *PodTopologySpread {
	t.Helper()
	h := newTestHandle(nodes, objs...)
	p, err := New(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	h.start(t)
	return p.(*PodTopologySpread)
}

// makeNode returns a NodeInfo for a node with labels, holding pods.
func makeNode(name string, nodeLabels map[string]string, pods ...*corev1.Pod) *framework.NodeInfo {
	ni := framework.NewNodeInfo(pods...)
	ni.SetNode(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: nodeLabels}})
	return ni
}

// podBuilder builds test pods fluently.
type podBuilder struct{ pod *corev1.Pod }

func makePod(ns, name string, podLabels ...string) *podBuilder {
	l := map[string]string{}
	for i := 0; i+1 < len(podLabels); i += 2 {
		l[podLabels[i]] = podLabels[i+1]
	}
	return &podBuilder{pod: &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		Namespace: ns, Name: name, UID: types.UID(ns + "/" + name), Labels: l,
	}}}
}

// spread adds a constraint on key selecting app=app; modify can adjust
// it.
func (b *podBuilder) spread(maxSkew int32, key string, action corev1.UnsatisfiableConstraintAction, app string, modify ...func(*corev1.TopologySpreadConstraint)) *podBuilder {
	c := corev1.TopologySpreadConstraint{
		MaxSkew: maxSkew, TopologyKey: key, WhenUnsatisfiable: action,
		LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}},
	}
	for _, m := range modify {
		m(&c)
	}
	b.pod.Spec.TopologySpreadConstraints = append(b.pod.Spec.TopologySpreadConstraints, c)
	return b
}

func (b *podBuilder) nodeSelector(k, v string) *podBuilder {
	b.pod.Spec.NodeSelector = map[string]string{k: v}
	return b
}

func (b *podBuilder) ownedBy(apiVersion, kind, name string) *podBuilder {
	b.pod.OwnerReferences = append(b.pod.OwnerReferences, metav1.OwnerReference{
		APIVersion: apiVersion, Kind: kind, Name: name, UID: types.UID(name), Controller: ptr.To(true),
	})
	return b
}

func (b *podBuilder) terminating() *podBuilder {
	b.pod.DeletionTimestamp = &metav1.Time{}
	return b
}

func (b *podBuilder) obj() *corev1.Pod { return b.pod }
