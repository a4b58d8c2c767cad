// Package simulated runs simulated nodes: it registers them, keeps their
// Leases renewed and their status Ready, and plays the kubelet for the
// pods bound to them (addresses from the node's pod CIDR, Running, then
// Succeeded for run-to-completion pods, and the final delete), without
// running any container. It is what `tug agent --simulated` runs, for
// scale tests and benchmarks.
package simulated

import (
	"context"
	"runtime/metrics"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/tugcluster/tug/internal/controller"
)

// byNode indexes cached pods by their node's name.
const byNode = "node"

// Simulator is the agent of a set of simulated nodes.
type Simulator struct {
	cfg    Config
	client kubernetes.Interface
	// core patches pod status without decoding the pod the server sends
	// back (a third of the pods the agent would decode); nil for fake
	// clientsets, which have no REST client.
	core  *rest.RESTClient
	clock clock.PassiveClock

	names []string       // node i's name
	index map[string]int // node name → i
	nodes []nodeState    // node i's state

	nodeInformer cache.SharedIndexInformer // our nodes, slimmed
	podInformer  cache.SharedIndexInformer // pods bound to our nodes, as *Pod
	nodeLoop     *controller.Loop
	podLoop      *controller.Loop
	ips          *podIPs

	stats struct{ started, completed, deleted atomic.Int64 }
}

// New returns the simulator of cfg's nodes, talking to the API server
// through client.
func New(client kubernetes.Interface, cfg Config) (*Simulator, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &Simulator{
		cfg:    cfg,
		client: client,
		clock:  cfg.Clock,
		names:  make([]string, cfg.Nodes),
		index:  make(map[string]int, cfg.Nodes),
		nodes:  make([]nodeState, cfg.Nodes),
		ips:    newPodIPs(),
		core:   controller.RESTClientOf(client.CoreV1().RESTClient()),
	}
	for i := range s.names {
		s.names[i] = NodeName(cfg.NamePrefix, i)
		s.index[s.names[i]] = i
	}
	s.nodeLoop = controller.New("simulated-nodes", cfg.NodeWorkers, s.syncNode)
	s.podLoop = controller.New("simulated-pods", cfg.PodWorkers, s.syncPod)

	nodes := client.CoreV1().Nodes()
	s.nodeInformer = cache.NewSharedIndexInformer(filteredListWatch{
		lw: &cache.ListWatch{
			ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return nodes.List(ctx, o)
			},
			WatchFuncWithContext: nodes.Watch,
		},
		keep: func(obj runtime.Object) bool {
			node, ok := obj.(*corev1.Node)
			return ok && s.ours(node.Name)
		},
	}, &corev1.Node{}, 0, cache.Indexers{})
	pods := client.CoreV1().Pods(metav1.NamespaceAll)
	// Only bound pods: a field selector the API server applies.
	bound := fields.OneTermNotEqualSelector("spec.nodeName", "").String()
	s.podInformer = cache.NewSharedIndexInformer(filteredListWatch{
		lw: &cache.ListWatch{
			ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				o.FieldSelector = bound
				return pods.List(ctx, o)
			},
			WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
				o.FieldSelector = bound
				return pods.Watch(ctx, o)
			},
		},
		keep: func(obj runtime.Object) bool {
			pod, ok := obj.(*corev1.Pod)
			return ok && s.ours(pod.Spec.NodeName)
		},
	}, &corev1.Pod{}, 0, cache.Indexers{byNode: indexByNode})
	if err := s.nodeInformer.SetTransform(slimNode); err != nil {
		return nil, err
	}
	if err := s.podInformer.SetTransform(func(obj any) (any, error) { return slimPod(obj, s.canonicalName) }); err != nil {
		return nil, err
	}
	if err := s.addHandlers(); err != nil {
		return nil, err
	}
	return s, nil
}

// Run registers the nodes and serves them until ctx ends, then returns
// once every goroutine it started has.
func (s *Simulator) Run(ctx context.Context) error {
	logger := klog.FromContext(ctx)
	logger.Info("Starting simulated nodes", "nodes", s.cfg.Nodes, "first", s.names[0], "last", s.names[len(s.names)-1])
	for _, name := range s.names {
		s.nodeLoop.Enqueue(name) // nodes that do not exist yet send no event
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { s.nodeInformer.RunWithContext(gctx); return nil })
	g.Go(func() error { s.podInformer.RunWithContext(gctx); return nil })
	g.Go(func() error { return s.nodeLoop.Run(gctx, s.nodeInformer.HasSynced) })
	g.Go(func() error { return s.podLoop.Run(gctx, s.nodeInformer.HasSynced, s.podInformer.HasSynced) })
	g.Go(func() error { s.logStats(gctx); return nil })
	err := g.Wait()
	logger.Info("Simulated nodes stopped", s.statsValues(s.summarize())...)
	return err
}

// ours reports whether node name is one of this agent's.
func (s *Simulator) ours(name string) bool {
	_, ok := s.index[name]
	return ok
}

// canonicalName returns the agent's own copy of a node name, so that
// 150,000 cached pods share 5,000 strings.
func (s *Simulator) canonicalName(name string) string {
	if i, ok := s.index[name]; ok {
		return s.names[i]
	}
	return name
}

func (s *Simulator) addHandlers() error {
	enqueuePods := func(node string) {
		keys, err := s.podInformer.GetIndexer().IndexKeys(byNode, node)
		if err != nil {
			return
		}
		for _, k := range keys {
			s.podLoop.Enqueue(k)
		}
	}
	_, err := s.nodeInformer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			s.nodeLoop.EnqueueObject(obj)
			if node, ok := obj.(*corev1.Node); ok && node.Spec.PodCIDR != "" {
				enqueuePods(node.Name)
			}
		},
		UpdateFunc: func(oldObj, obj any) {
			s.nodeLoop.EnqueueObject(obj)
			old, ok1 := oldObj.(*corev1.Node)
			node, ok2 := obj.(*corev1.Node)
			if ok1 && ok2 && old.Spec.PodCIDR != node.Spec.PodCIDR {
				enqueuePods(node.Name)
			}
		},
		DeleteFunc: s.nodeLoop.EnqueueObject,
	})
	if err != nil {
		return err
	}
	_, err = s.podInformer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    s.podLoop.EnqueueObject,
		UpdateFunc: func(_, obj any) { s.podLoop.EnqueueObject(obj) },
		DeleteFunc: s.podLoop.EnqueueObject,
	})
	return err
}

func indexByNode(obj any) ([]string, error) {
	if p, ok := obj.(*Pod); ok && p.NodeName != "" {
		return []string{p.NodeName}, nil
	}
	return nil, nil
}

// slimNode keeps of a node what the agent reads: identity, labels,
// deletion, pod CIDR and conditions.
func slimNode(obj any) (any, error) {
	node, ok := obj.(*corev1.Node)
	if !ok {
		return obj, nil
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: node.Name, UID: node.UID, ResourceVersion: node.ResourceVersion,
			Labels: node.Labels, DeletionTimestamp: node.DeletionTimestamp,
		},
		Spec:   corev1.NodeSpec{PodCIDR: node.Spec.PodCIDR, PodCIDRs: node.Spec.PodCIDRs},
		Status: corev1.NodeStatus{Conditions: node.Status.Conditions},
	}, nil
}

// logStats logs a summary every StatsInterval until ctx ends, and a
// warning while pods wait for pod CIDRs their nodes do not have: the one
// wait the agent cannot end by itself.
func (s *Simulator) logStats(ctx context.Context) {
	ticker := time.NewTicker(s.cfg.StatsInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			logger := klog.FromContext(ctx)
			sum := s.summarize()
			logger.Info("Simulated nodes", s.statsValues(sum)...)
			if sum.pendingNoPodCIDR > 0 {
				logger.Info("Pods wait for their nodes' pod CIDRs; is the server's cluster CIDR too small for the nodes?",
					"pods", sum.pendingNoPodCIDR, "nodesWithoutPodCIDR", sum.nodesWithoutPodCIDR, "firstNodes", sum.noPodCIDRNodes)
			}
		}
	}
}

// statsValues are the summary's key/value pairs: nodes and pods by what
// they wait for, the transitions made, and the Go heap (live after the
// last collection, and in use now), for benchmarks to read.
func (s *Simulator) statsValues(sum summary) []any {
	samples := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(samples)
	value := func(i int) uint64 {
		if samples[i].Value.Kind() == metrics.KindUint64 {
			return samples[i].Value.Uint64()
		}
		return 0
	}
	return []any{
		"nodes", s.cfg.Nodes,
		"nodesWithoutPodCIDR", sum.nodesWithoutPodCIDR,
		"podsCached", sum.pods,
		"podsPending", sum.pending,
		"pendingNoPodCIDR", sum.pendingNoPodCIDR,
		"podsRunning", sum.running,
		"podsFinished", sum.finished,
		"podsDeleting", sum.deleting,
		"podsWithIP", s.ips.len(),
		"started", s.stats.started.Load(),
		"completed", s.stats.completed.Load(),
		"deleted", s.stats.deleted.Load(),
		"heapLiveBytes", value(0),
		"heapObjectsBytes", value(1),
	}
}
