package runtime_test

import (
	"context"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/tugcluster/tug/internal/scheduler/framework"
	"github.com/tugcluster/tug/internal/scheduler/runtime"
)

// testPlugin implements every extension point with functions a test sets;
// an unset function passes.
type testPlugin struct {
	name        string
	preFilter   func(pod *corev1.Pod) (*framework.PreFilterResult, *framework.Status)
	filter      func(pod *corev1.Pod, ni *framework.NodeInfo) *framework.Status
	postFilter  func(filtered *framework.NodeToStatus) (*framework.PostFilterResult, *framework.Status)
	preScore    func() *framework.Status
	score       func(ni *framework.NodeInfo) (int64, *framework.Status)
	normalize   func(scores []framework.NodeScore) *framework.Status
	bind        func() *framework.Status
	addPodCalls atomic.Int32
	filterCalls atomic.Int32
}

var (
	_ framework.PreFilterPlugin  = (*testPlugin)(nil)
	_ framework.FilterPlugin     = (*testPlugin)(nil)
	_ framework.PostFilterPlugin = (*testPlugin)(nil)
	_ framework.PreScorePlugin   = (*testPlugin)(nil)
	_ framework.ScorePlugin      = (*testPlugin)(nil)
	_ framework.BindPlugin       = (*testPlugin)(nil)
)

func (p *testPlugin) Name() string { return p.name }

func (p *testPlugin) PreFilter(_ context.Context, _ *framework.CycleState, pod *corev1.Pod, _ []*framework.NodeInfo) (*framework.PreFilterResult, *framework.Status) {
	if p.preFilter == nil {
		return nil, nil
	}
	return p.preFilter(pod)
}

func (p *testPlugin) PreFilterExtensions() framework.PreFilterExtensions { return p }

func (p *testPlugin) AddPod(context.Context, *framework.CycleState, *corev1.Pod, *framework.PodInfo, *framework.NodeInfo) *framework.Status {
	p.addPodCalls.Add(1)
	return nil
}

func (p *testPlugin) RemovePod(context.Context, *framework.CycleState, *corev1.Pod, *framework.PodInfo, *framework.NodeInfo) *framework.Status {
	return nil
}

func (p *testPlugin) Filter(_ context.Context, _ *framework.CycleState, pod *corev1.Pod, ni *framework.NodeInfo) *framework.Status {
	p.filterCalls.Add(1)
	if p.filter == nil {
		return nil
	}
	return p.filter(pod, ni)
}

func (p *testPlugin) PostFilter(_ context.Context, _ *framework.CycleState, _ *corev1.Pod, filtered *framework.NodeToStatus) (*framework.PostFilterResult, *framework.Status) {
	if p.postFilter == nil {
		return nil, framework.NewStatus(framework.Unschedulable)
	}
	return p.postFilter(filtered)
}

func (p *testPlugin) PreScore(context.Context, *framework.CycleState, *corev1.Pod, []*framework.NodeInfo) *framework.Status {
	if p.preScore == nil {
		return nil
	}
	return p.preScore()
}

func (p *testPlugin) Score(_ context.Context, _ *framework.CycleState, _ *corev1.Pod, ni *framework.NodeInfo) (int64, *framework.Status) {
	if p.score == nil {
		return 0, nil
	}
	return p.score(ni)
}

func (p *testPlugin) ScoreExtensions() framework.ScoreExtensions {
	if p.normalize == nil {
		return nil
	}
	return p
}

func (p *testPlugin) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *corev1.Pod, scores []framework.NodeScore) *framework.Status {
	return p.normalize(scores)
}

func (p *testPlugin) Bind(context.Context, *framework.CycleState, *corev1.Pod, string) *framework.Status {
	if p.bind == nil {
		return framework.NewStatus(framework.Skip)
	}
	return p.bind()
}

// filterOnly implements only Filter.
type filterOnly struct{ name string }

func (f filterOnly) Name() string { return f.name }
func (f filterOnly) Filter(context.Context, *framework.CycleState, *corev1.Pod, *framework.NodeInfo) *framework.Status {
	return nil
}

func registryOf(plugins ...framework.Plugin) runtime.Registry {
	r := runtime.Registry{}
	for _, p := range plugins {
		r[p.Name()] = func(context.Context, framework.Handle) (framework.Plugin, error) { return p, nil }
	}
	return r
}

func makeNodeInfo(name string, cpu string) *framework.NodeInfo {
	ni := framework.NewNodeInfo()
	ni.SetNode(&corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Status:     corev1.NodeStatus{Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}},
	})
	return ni
}

func makePod(name string, prio int32, cpu string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID(name)},
		Spec: corev1.PodSpec{Priority: &prio, Containers: []corev1.Container{{
			Name: "c", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}},
		}}},
	}
}

// nodeSet is a PreFilterResult naming nodes.
func nodeSet(names ...string) *framework.PreFilterResult {
	return &framework.PreFilterResult{NodeNames: sets.New(names...)}
}

// cpuFit rejects nodes without room for pod's cpu request.
func cpuFit(pod *corev1.Pod, ni *framework.NodeInfo) *framework.Status {
	if ni.Requested.MilliCPU+framework.PodRequests(pod, false).MilliCPU > ni.Allocatable.MilliCPU {
		return framework.NewStatus(framework.Unschedulable, "Insufficient cpu")
	}
	return nil
}

type staticNominator map[string][]*framework.PodInfo

func (n staticNominator) NominatedPodsForNode(node string) []*framework.PodInfo { return n[node] }

func (n staticNominator) HasNominatedPods() bool { return len(n) > 0 }
