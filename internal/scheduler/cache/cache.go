// Package cache is the scheduler's in-memory view of the cluster: a
// NodeInfo per node with the pods assigned to it, including pods the
// scheduler has assumed on a node before the API server confirmed the
// binding, and the incremental Snapshot each scheduling cycle reads.
package cache

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// Options configure a Cache.
type Options struct {
	// Clock decides when assumed pods expire. Default: the real clock.
	Clock clock.Clock
	// AssumedPodTTL is how long an assumed pod whose binding finished may
	// wait for the informer to confirm it before it is dropped. Default 30s.
	AssumedPodTTL time.Duration
}

// DefaultAssumedPodTTL is the default of Options.AssumedPodTTL.
const DefaultAssumedPodTTL = 30 * time.Second

// cleanupPeriod is how often Run drops expired assumed pods.
const cleanupPeriod = time.Second

// Cache holds NodeInfos by node name. It is safe for concurrent use.
type Cache struct {
	clock clock.Clock
	ttl   time.Duration

	mu    sync.Mutex
	nodes map[string]*framework.NodeInfo
	// order lists the nodes that have a Node object, in the order they
	// arrived; snapshots list nodes in this order.
	order        []string
	orderVersion uint64
	pods         map[types.UID]*podState
	// generation numbers every change, across nodes, so that a NodeInfo
	// that is deleted and made again never reuses a Generation.
	generation int64
	// dirty names the nodes changed since lastSnapshot was updated.
	dirty        map[string]struct{}
	lastSnapshot *Snapshot
}

type podState struct {
	pod             *corev1.Pod
	assumed         bool
	bindingFinished bool
	deadline        time.Time
}

// New returns an empty cache.
func New(opts Options) *Cache {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.AssumedPodTTL <= 0 {
		opts.AssumedPodTTL = DefaultAssumedPodTTL
	}
	return &Cache{
		clock: opts.Clock,
		ttl:   opts.AssumedPodTTL,
		nodes: map[string]*framework.NodeInfo{},
		pods:  map[types.UID]*podState{},
		dirty: map[string]struct{}{},
	}
}

// Run drops expired assumed pods every second until ctx ends.
func (c *Cache) Run(ctx context.Context) {
	t := c.clock.NewTimer(cleanupPeriod)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
			c.cleanupExpiredAssumedPods(ctx)
			t.Reset(cleanupPeriod)
		}
	}
}

// touched records a change of the NodeInfo of name.
func (c *Cache) touched(name string, ni *framework.NodeInfo) {
	c.generation++
	ni.Generation = c.generation
	ni.LabelsGeneration = framework.NextLabelsGeneration()
	c.dirty[name] = struct{}{}
}

// AddNode adds or replaces a node.
func (c *Cache) AddNode(node *corev1.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ni, ok := c.nodes[node.Name]
	if !ok {
		ni = framework.NewNodeInfo()
		c.nodes[node.Name] = ni
	}
	if ni.Node == nil {
		c.order = append(c.order, node.Name)
		c.orderVersion++
	}
	ni.SetNode(node)
	c.touched(node.Name, ni)
}

// UpdateNode replaces a node.
func (c *Cache) UpdateNode(_, newNode *corev1.Node) { c.AddNode(newNode) }

// RemoveNode forgets a node. Its pods stay accounted for, in a NodeInfo
// without a Node, until they are deleted too.
func (c *Cache) RemoveNode(node *corev1.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ni, ok := c.nodes[node.Name]
	if !ok || ni.Node == nil {
		return
	}
	ni.Node, ni.Name, ni.Unschedulable, ni.Taints = nil, "", false, nil
	ni.Allocatable = framework.Resource{}
	ni.ImageStates = nil
	c.touched(node.Name, ni)
	if len(ni.Pods) == 0 {
		delete(c.nodes, node.Name)
	}
	for i, name := range c.order {
		if name == node.Name {
			c.order = append(c.order[:i:i], c.order[i+1:]...)
			c.orderVersion++
			break
		}
	}
}

// AssumePod accounts for pod (whose spec.nodeName the scheduler set) on
// its node before the binding is confirmed.
func (c *Cache) AssumePod(pod *corev1.Pod) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if pod.Spec.NodeName == "" {
		return fmt.Errorf("assume pod %s/%s: no node name", pod.Namespace, pod.Name)
	}
	if _, ok := c.pods[pod.UID]; ok {
		return fmt.Errorf("assume pod %s/%s: already in the cache", pod.Namespace, pod.Name)
	}
	c.addPodToNode(pod)
	c.pods[pod.UID] = &podState{pod: pod, assumed: true}
	return nil
}

// FinishBinding starts the expiry of an assumed pod whose binding
// request succeeded: the informer should confirm it soon.
func (c *Cache) FinishBinding(pod *corev1.Pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ps, ok := c.pods[pod.UID]; ok && ps.assumed {
		ps.bindingFinished = true
		ps.deadline = c.clock.Now().Add(c.ttl)
	}
}

// ForgetPod drops an assumed pod whose binding failed.
func (c *Cache) ForgetPod(pod *corev1.Pod) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps, ok := c.pods[pod.UID]
	if !ok || !ps.assumed {
		return fmt.Errorf("forget pod %s/%s: not assumed", pod.Namespace, pod.Name)
	}
	c.removePodFromNode(ps.pod)
	delete(c.pods, pod.UID)
	return nil
}

// AddPod accounts for an assigned pod the informer reports; for an
// assumed pod this is the confirmation.
func (c *Cache) AddPod(pod *corev1.Pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps, ok := c.pods[pod.UID]
	if !ok {
		c.addPodToNode(pod)
		c.pods[pod.UID] = &podState{pod: pod}
		return
	}
	// A pod replaced on its node with the same labels (the binding's
	// confirmation, the node reporting it running) leaves what selectors
	// count there as it was.
	ni := c.nodes[ps.pod.Spec.NodeName]
	keep := ni != nil && ps.pod.Spec.NodeName == pod.Spec.NodeName && sameForSelectors(ps.pod, pod)
	var labelsGeneration int64
	if keep {
		labelsGeneration = ni.LabelsGeneration
	}
	c.removePodFromNode(ps.pod)
	c.addPodToNode(pod)
	if keep && c.nodes[pod.Spec.NodeName] == ni {
		ni.LabelsGeneration = labelsGeneration
	}
	c.pods[pod.UID] = &podState{pod: pod}
}

// UpdatePod replaces an assigned pod. An update that changes nothing a
// scheduler reads of an assigned pod (its node reporting it running:
// conditions, IPs, container statuses) keeps the cached pod, so its node's
// NodeInfo stays as it is: the next snapshot does not copy it, and the
// plugins' per-node memos hold.
func (c *Cache) UpdatePod(_, newPod *corev1.Pod) {
	c.mu.Lock()
	ps, ok := c.pods[newPod.UID]
	if ok && !ps.assumed && sameForScheduling(ps.pod, newPod) {
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	c.AddPod(newPod)
}

// RemovePod forgets an assigned pod (deleted or finished).
func (c *Cache) RemovePod(pod *corev1.Pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps, ok := c.pods[pod.UID]
	if !ok {
		return
	}
	c.removePodFromNode(ps.pod)
	delete(c.pods, pod.UID)
}

// IsAssumedPod reports whether pod is assumed and not yet confirmed.
func (c *Cache) IsAssumedPod(pod *corev1.Pod) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps, ok := c.pods[pod.UID]
	return ok && ps.assumed
}

// GetPod returns the cached version of pod.
func (c *Cache) GetPod(pod *corev1.Pod) (*corev1.Pod, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps, ok := c.pods[pod.UID]
	if !ok {
		return nil, false
	}
	return ps.pod, true
}

// Counts returns the number of nodes (with a Node object) and pods.
func (c *Cache) Counts() (nodes, pods int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.order), len(c.pods)
}

func (c *Cache) addPodToNode(pod *corev1.Pod) {
	name := pod.Spec.NodeName
	ni, ok := c.nodes[name]
	if !ok {
		ni = framework.NewNodeInfo()
		c.nodes[name] = ni
	}
	ni.AddPod(pod)
	c.touched(name, ni)
}

func (c *Cache) removePodFromNode(pod *corev1.Pod) {
	name := pod.Spec.NodeName
	ni, ok := c.nodes[name]
	if !ok || !ni.RemovePod(pod) {
		return
	}
	c.touched(name, ni)
	if ni.Node == nil && len(ni.Pods) == 0 {
		delete(c.nodes, name)
	}
}

func (c *Cache) cleanupExpiredAssumedPods(ctx context.Context) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock.Now()
	for uid, ps := range c.pods {
		if ps.assumed && ps.bindingFinished && now.After(ps.deadline) {
			klog.FromContext(ctx).Info("Assumed pod expired: its binding was never confirmed", "pod", klog.KObj(ps.pod), "node", ps.pod.Spec.NodeName)
			c.removePodFromNode(ps.pod)
			delete(c.pods, uid)
		}
	}
}
