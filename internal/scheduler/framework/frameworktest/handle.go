package frameworktest

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/events"

	"github.com/tugcluster/tug/internal/scheduler/cache"
	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// Handle is the part of the scheduler a plugin sees: the scheduler's
// snapshot type over fixed NodeInfos, a fake clientset with informers on
// it, a fake event recorder, nominated pods, and the filter plugins under
// test, run in order. Tests set Plugins and Nominated before use.
type Handle struct {
	// Client is the fake API; its Actions() record what plugins did.
	Client *fake.Clientset
	// Factory holds the informers plugins ask for; Start runs them.
	Factory informers.SharedInformerFactory
	// Recorder buffers up to 100 events on its Events channel.
	Recorder *events.FakeRecorder
	// Plugins are the pre-filter and filter plugins RunFilterPlugins and
	// the pre-filter extensions call, in order. Default: none.
	Plugins []framework.Plugin
	// Nominated are the pods NominatedPodsForNode returns, by node.
	Nominated map[string][]*framework.PodInfo

	nodes    []*framework.NodeInfo
	snapshot *cache.Snapshot
}

var _ framework.Handle = (*Handle)(nil)

// NewHandle returns a handle whose snapshot lists nodes (not copies) and
// whose fake API holds objs.
func NewHandle(nodes []*framework.NodeInfo, objs ...runtime.Object) *Handle {
	client := fake.NewClientset(objs...)
	return &Handle{
		Client:    client,
		Factory:   informers.NewSharedInformerFactory(client, 0),
		Recorder:  events.NewFakeRecorder(100),
		Nominated: map[string][]*framework.PodInfo{},
		nodes:     nodes,
		snapshot:  cache.NewSnapshotOf(nodes...),
	}
}

// Start runs the informers the plugins asked for and waits for them to
// sync; they stop when t ends. Call it after building the plugins.
func (h *Handle) Start(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h.Factory.Start(ctx.Done())
	t.Cleanup(func() {
		cancel()
		h.Factory.Shutdown()
	})
	for typ, ok := range h.Factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			t.Fatalf("informer for %v did not sync", typ)
		}
	}
}

// Nodes returns the NodeInfos the handle was built over.
func (h *Handle) Nodes() []*framework.NodeInfo { return h.nodes }

// SnapshotSharedLister returns the snapshot over the handle's nodes.
func (h *Handle) SnapshotSharedLister() framework.SharedLister { return h.snapshot }

// ClientSet returns the fake clientset.
func (h *Handle) ClientSet() kubernetes.Interface { return h.Client }

// SharedInformerFactory returns the informer factory over the fake
// clientset.
func (h *Handle) SharedInformerFactory() informers.SharedInformerFactory { return h.Factory }

// EventRecorder returns the fake recorder.
func (h *Handle) EventRecorder() events.EventRecorder { return h.Recorder }

// NominatedPodsForNode returns h.Nominated[name].
func (h *Handle) NominatedPodsForNode(name string) []*framework.PodInfo { return h.Nominated[name] }

// Parallelize runs work with the package's Parallelize.
func (h *Handle) Parallelize(ctx context.Context, n int, work func(i int)) {
	Parallelize(ctx, n, work)
}

// PreFilter runs every pre-filter plugin in h.Plugins, noting the ones
// that skip in state, and returns the first failure tagged with its
// plugin.
func (h *Handle) PreFilter(ctx context.Context, state *framework.CycleState, pod *corev1.Pod) *framework.Status {
	state.SkipFilterPlugins = map[string]bool{}
	for _, p := range h.Plugins {
		pf, ok := p.(framework.PreFilterPlugin)
		if !ok {
			continue
		}
		_, st := pf.PreFilter(ctx, state, pod, h.nodes)
		switch {
		case st.IsSkip():
			state.SkipFilterPlugins[p.Name()] = true
		case !st.IsSuccess():
			return st.WithPlugin(p.Name())
		}
	}
	return nil
}

// FilterAll runs the filters on every node, as the scheduler does before
// calling PostFilter.
func (h *Handle) FilterAll(ctx context.Context, state *framework.CycleState, pod *corev1.Pod) *framework.NodeToStatus {
	m := &framework.NodeToStatus{Statuses: map[string]*framework.Status{}}
	for _, ni := range h.nodes {
		m.Statuses[ni.NodeName()] = h.RunFilterPlugins(ctx, state, pod, ni)
	}
	return m
}

// RunFilterPlugins runs the filter plugins in h.Plugins that PreFilter
// did not skip, stopping at the first rejection.
func (h *Handle) RunFilterPlugins(ctx context.Context, state *framework.CycleState, pod *corev1.Pod, nodeInfo *framework.NodeInfo) *framework.Status {
	for _, p := range h.Plugins {
		f, ok := p.(framework.FilterPlugin)
		if !ok || state.SkipFilterPlugins[p.Name()] {
			continue
		}
		if st := f.Filter(ctx, state, pod, nodeInfo); !st.IsSuccess() {
			return st.WithPlugin(p.Name())
		}
	}
	return nil
}

// RunPreFilterExtensionAddPod calls AddPod on the pre-filter extensions of
// h.Plugins.
func (h *Handle) RunPreFilterExtensionAddPod(ctx context.Context, state *framework.CycleState, podToSchedule *corev1.Pod, podInfoToAdd *framework.PodInfo, nodeInfo *framework.NodeInfo) *framework.Status {
	return h.runExtensions(state, func(ext framework.PreFilterExtensions) *framework.Status {
		return ext.AddPod(ctx, state, podToSchedule, podInfoToAdd, nodeInfo)
	})
}

// RunPreFilterExtensionRemovePod calls RemovePod on the pre-filter
// extensions of h.Plugins.
func (h *Handle) RunPreFilterExtensionRemovePod(ctx context.Context, state *framework.CycleState, podToSchedule *corev1.Pod, podInfoToRemove *framework.PodInfo, nodeInfo *framework.NodeInfo) *framework.Status {
	return h.runExtensions(state, func(ext framework.PreFilterExtensions) *framework.Status {
		return ext.RemovePod(ctx, state, podToSchedule, podInfoToRemove, nodeInfo)
	})
}

func (h *Handle) runExtensions(state *framework.CycleState, call func(framework.PreFilterExtensions) *framework.Status) *framework.Status {
	for _, p := range h.Plugins {
		pf, ok := p.(framework.PreFilterPlugin)
		if !ok || state.SkipFilterPlugins[p.Name()] {
			continue
		}
		if ext := pf.PreFilterExtensions(); ext != nil {
			if st := call(ext); !st.IsSuccess() {
				return st
			}
		}
	}
	return nil
}
