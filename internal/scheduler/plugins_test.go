package scheduler

import (
	"context"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/events"

	"github.com/tugcluster/tug/internal/scheduler/framework"
	"github.com/tugcluster/tug/internal/scheduler/runtime"
)

// testPlugin is a plugin whose extension points a test sets; unset ones
// pass.
type testPlugin struct {
	name        string
	preFilter   func(pod *corev1.Pod) (*framework.PreFilterResult, *framework.Status)
	filter      func(pod *corev1.Pod, ni *framework.NodeInfo) *framework.Status
	postFilter  func() (*framework.PostFilterResult, *framework.Status)
	score       func(ni *framework.NodeInfo) int64
	events      []framework.ClusterEvent
	filterCalls atomic.Int32
}

func (p *testPlugin) Name() string { return p.name }

func (p *testPlugin) PreFilter(_ context.Context, _ *framework.CycleState, pod *corev1.Pod, _ []*framework.NodeInfo) (*framework.PreFilterResult, *framework.Status) {
	if p.preFilter == nil {
		return nil, nil
	}
	return p.preFilter(pod)
}

func (p *testPlugin) PreFilterExtensions() framework.PreFilterExtensions { return nil }

func (p *testPlugin) Filter(_ context.Context, _ *framework.CycleState, pod *corev1.Pod, ni *framework.NodeInfo) *framework.Status {
	p.filterCalls.Add(1)
	if p.filter == nil {
		return nil
	}
	return p.filter(pod, ni)
}

func (p *testPlugin) PostFilter(context.Context, *framework.CycleState, *corev1.Pod, *framework.NodeToStatus) (*framework.PostFilterResult, *framework.Status) {
	return p.postFilter()
}

func (p *testPlugin) Score(_ context.Context, _ *framework.CycleState, _ *corev1.Pod, ni *framework.NodeInfo) (int64, *framework.Status) {
	return p.score(ni), nil
}

func (p *testPlugin) ScoreExtensions() framework.ScoreExtensions { return nil }

func (p *testPlugin) EventsToRegister() []framework.ClusterEvent { return p.events }

// cpuFit is the resource filter in miniature.
func cpuFit() *testPlugin {
	return &testPlugin{name: "Fit", filter: func(pod *corev1.Pod, ni *framework.NodeInfo) *framework.Status {
		if ni.Requested.MilliCPU+framework.PodRequests(pod, false).MilliCPU > ni.Allocatable.MilliCPU {
			return framework.NewStatus(framework.Unschedulable, "Insufficient cpu")
		}
		return nil
	}, events: []framework.ClusterEvent{
		{Resource: framework.NodeResource, ActionType: framework.Add | framework.UpdateNodeAllocatable},
		{Resource: framework.AssignedPodResource, ActionType: framework.Delete},
	}}
}

// labelFilter rejects nodes carrying label with reason.
func labelFilter(name, label, reason string) *testPlugin {
	return &testPlugin{name: name, filter: func(_ *corev1.Pod, ni *framework.NodeInfo) *framework.Status {
		if _, ok := ni.Node.Labels[label]; ok {
			return framework.NewStatus(framework.Unschedulable, reason)
		}
		return nil
	}}
}

func postFilterSaying(msg string) *testPlugin {
	return &testPlugin{name: "Preempt", postFilter: func() (*framework.PostFilterResult, *framework.Status) {
		return nil, framework.NewStatus(framework.Unschedulable, msg)
	}}
}

func registryOf(plugins ...*testPlugin) runtime.Registry {
	r := runtime.Registry{}
	for _, p := range plugins {
		r[p.name] = func(context.Context, framework.Handle) (framework.Plugin, error) { return p, nil }
	}
	r["Binder"] = func(_ context.Context, h framework.Handle) (framework.Plugin, error) {
		return &apiBinder{client: h}, nil
	}
	return r
}

// apiBinder binds through the API like the default binder.
type apiBinder struct{ client framework.Handle }

func (b *apiBinder) Name() string { return "Binder" }

func (b *apiBinder) Bind(ctx context.Context, _ *framework.CycleState, pod *corev1.Pod, node string) *framework.Status {
	err := b.client.ClientSet().CoreV1().Pods(pod.Namespace).Bind(ctx, &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: node},
	}, metav1.CreateOptions{})
	return framework.AsStatus(err)
}

func newTestScheduler(t *testing.T, profile runtime.Profile, plugins []*testPlugin, change ...func(*Options)) (*Scheduler, *fake.Clientset) {
	t.Helper()
	client := fake.NewClientset()
	opts := Options{
		Client:          client,
		InformerFactory: informers.NewSharedInformerFactory(client, 0),
		Registry:        registryOf(plugins...),
		Profile:         &profile,
		Parallelism:     1,
		EventRecorder:   events.NewFakeRecorder(100),
	}
	for _, c := range change {
		c(&opts)
	}
	s, err := New(context.Background(), opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	s.rand = rand.New(rand.NewPCG(1, 2))
	return s, client
}

func makeNode(name, cpu string, labels map[string]string) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Status: corev1.NodeStatus{Allocatable: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourcePods: resource.MustParse("110"),
		}},
	}
}

func makePod(name, cpu string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, UID: types.UID("uid-" + name)},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "c", Image: "i",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}},
		}}},
	}
}
