package defaultpreemption

import (
	"context"
	"fmt"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/events"

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

// testHandle is the part of the scheduler the plugin sees: a snapshot, a
// fake clientset with informers on it, an event recorder, nominated pods,
// and the filter plugins under test, run in order.
type testHandle struct {
	snap      *snapshot
	client    *fake.Clientset
	factory   informers.SharedInformerFactory
	recorder  *events.FakeRecorder
	plugins   []framework.Plugin
	nominated map[string][]*framework.PodInfo
}

var _ framework.Handle = (*testHandle)(nil)

func newTestHandle(nodes []*framework.NodeInfo, objs ...runtime.Object) *testHandle {
	client := fake.NewClientset(objs...)
	return &testHandle{
		snap:      &snapshot{nodes: nodes},
		client:    client,
		factory:   informers.NewSharedInformerFactory(client, 0),
		recorder:  events.NewFakeRecorder(100),
		nominated: map[string][]*framework.PodInfo{},
	}
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

func (h *testHandle) EventRecorder() events.EventRecorder { return h.recorder }

// preFilter runs every pre-filter plugin, noting the ones that skip.
func (h *testHandle) preFilter(ctx context.Context, state *framework.CycleState, pod *corev1.Pod) *framework.Status {
	state.SkipFilterPlugins = map[string]bool{}
	for _, p := range h.plugins {
		pf, ok := p.(framework.PreFilterPlugin)
		if !ok {
			continue
		}
		_, st := pf.PreFilter(ctx, state, pod, h.snap.nodes)
		switch {
		case st.IsSkip():
			state.SkipFilterPlugins[p.Name()] = true
		case !st.IsSuccess():
			return st.WithPlugin(p.Name())
		}
	}
	return nil
}

// filterAll runs the filters on every node, as the scheduler does before
// calling PostFilter.
func (h *testHandle) filterAll(ctx context.Context, state *framework.CycleState, pod *corev1.Pod) *framework.NodeToStatus {
	m := &framework.NodeToStatus{Statuses: map[string]*framework.Status{}}
	for _, ni := range h.snap.nodes {
		m.Statuses[ni.NodeName()] = h.RunFilterPlugins(ctx, state, pod, ni)
	}
	return m
}

func (h *testHandle) RunFilterPlugins(ctx context.Context, state *framework.CycleState, pod *corev1.Pod, nodeInfo *framework.NodeInfo) *framework.Status {
	for _, p := range h.plugins {
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

func (h *testHandle) RunPreFilterExtensionAddPod(ctx context.Context, state *framework.CycleState, podToSchedule *corev1.Pod, podInfoToAdd *framework.PodInfo, nodeInfo *framework.NodeInfo) *framework.Status {
	return h.runExtensions(state, func(ext framework.PreFilterExtensions) *framework.Status {
		return ext.AddPod(ctx, state, podToSchedule, podInfoToAdd, nodeInfo)
	})
}

func (h *testHandle) RunPreFilterExtensionRemovePod(ctx context.Context, state *framework.CycleState, podToSchedule *corev1.Pod, podInfoToRemove *framework.PodInfo, nodeInfo *framework.NodeInfo) *framework.Status {
	return h.runExtensions(state, func(ext framework.PreFilterExtensions) *framework.Status {
		return ext.RemovePod(ctx, state, podToSchedule, podInfoToRemove, nodeInfo)
	})
}

func (h *testHandle) runExtensions(state *framework.CycleState, call func(framework.PreFilterExtensions) *framework.Status) *framework.Status {
	for _, p := range h.plugins {
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

func (h *testHandle) NominatedPodsForNode(name string) []*framework.PodInfo { return h.nominated[name] }

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
