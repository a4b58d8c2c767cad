// Package nodeipam is the node IPAM controller: it gives every node a pod
// CIDR (spec.podCIDR and spec.podCIDRs), a subnet of the cluster CIDR, and
// takes it back when the node is deleted.
package nodeipam

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/tugcluster/tug/internal/controller"
)

// exhaustedRetry is how often a node waiting for a free CIDR is looked at
// again, besides whenever a node's deletion frees one.
const exhaustedRetry = time.Minute

// Controller assigns node CIDRs. The allocator's state is rebuilt from the
// nodes' spec.podCIDR at start, so it survives restarts without storage
// of its own.
type Controller struct {
	client kubernetes.Interface
	nodes  corelisters.NodeLister
	synced []cache.InformerSynced
	loop   *controller.Loop

	mu          sync.Mutex
	alloc       *Allocator
	initialized bool
	assigned    map[string]netip.Prefix // node name → the CIDR it holds
	waiting     map[string]bool         // nodes that found the allocator exhausted
}

// New returns the controller for the nodes of informer, handing out the
// node CIDRs of cluster (see NodeMaskSize).
func New(client kubernetes.Interface, nodes coreinformers.NodeInformer, cluster netip.Prefix) (*Controller, error) {
	c, err := newController(client, nodes.Lister(), cluster)
	if err != nil {
		return nil, err
	}
	c.synced = []cache.InformerSynced{nodes.Informer().HasSynced}
	_, err = nodes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.loop.EnqueueObject,
		UpdateFunc: func(_, obj any) { c.loop.EnqueueObject(obj) },
		DeleteFunc: c.loop.EnqueueObject,
	})
	return c, err
}

func newController(client kubernetes.Interface, nodes corelisters.NodeLister, cluster netip.Prefix) (*Controller, error) {
	alloc, err := NewAllocator(cluster, NodeMaskSize(cluster))
	if err != nil {
		return nil, err
	}
	c := &Controller{
		client:   client,
		nodes:    nodes,
		alloc:    alloc,
		assigned: map[string]netip.Prefix{},
		waiting:  map[string]bool{},
	}
	c.loop = controller.New("nodeipam", 2, c.sync)
	return c, nil
}

// Run runs the controller until ctx ends.
func (c *Controller) Run(ctx context.Context) error { return c.loop.Run(ctx, c.synced...) }

// sync gives node name a CIDR if it has none, or records the one it has;
// a node that is gone gives its CIDR back.
func (c *Controller) sync(ctx context.Context, name string) error {
	c.mu.Lock()
	c.initialize(ctx)
	node, err := c.nodes.Get(name)
	switch {
	case apierrors.IsNotFound(err):
		c.releaseLocked(name)
		c.mu.Unlock()
		return nil
	case err != nil:
		c.mu.Unlock()
		return err
	case node.Spec.PodCIDR != "":
		c.recordLocked(ctx, node)
		c.mu.Unlock()
		return nil
	}
	cidr, ok := c.assigned[name]
	if !ok {
		cidr, err = c.alloc.Allocate()
		if errors.Is(err, ErrExhausted) {
			first := !c.waiting[name]
			c.waiting[name] = true
			c.mu.Unlock()
			if first {
				c.recordExhausted(ctx, node)
			}
			return controller.Requeue{After: exhaustedRetry}
		}
		if err != nil {
			c.mu.Unlock()
			return err
		}
		c.assigned[name] = cidr
		delete(c.waiting, name)
	}
	c.mu.Unlock()

	// The assignment stays reserved while the update is retried, so a
	// conflict does not hand the node a different CIDR.
	updated := node.DeepCopy()
	updated.Spec.PodCIDR = cidr.String()
	updated.Spec.PodCIDRs = []string{cidr.String()}
	_, err = c.client.CoreV1().Nodes().Update(ctx, updated, metav1.UpdateOptions{})
	switch {
	case apierrors.IsNotFound(err):
		c.mu.Lock()
		c.releaseLocked(name)
		c.mu.Unlock()
		return nil
	case err != nil:
		return fmt.Errorf("set pod CIDR %s of node %s: %w", cidr, name, err)
	}
	klog.FromContext(ctx).V(2).Info("Assigned pod CIDR", "node", klog.KObj(node), "podCIDR", cidr)
	return nil
}

// initialize marks the CIDRs nodes already hold used before anything is
// allocated. The loop calls sync only once the cache has synced, so the
// first sync sees every node.
func (c *Controller) initialize(ctx context.Context) {
	if c.initialized {
		return
	}
	c.initialized = true
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		return // a lister over a synced cache does not fail
	}
	for _, n := range nodes {
		if n.Spec.PodCIDR != "" {
			c.recordLocked(ctx, n)
		}
	}
}

// recordLocked marks the CIDR node holds used, for the node.
func (c *Controller) recordLocked(ctx context.Context, node *corev1.Node) {
	logger := klog.FromContext(ctx)
	cidr, err := netip.ParsePrefix(node.Spec.PodCIDR)
	if err != nil {
		logger.Info("Node has an unparsable pod CIDR", "node", klog.KObj(node), "podCIDR", node.Spec.PodCIDR)
		return
	}
	if prev, ok := c.assigned[node.Name]; ok {
		if prev == cidr {
			return
		}
		_ = c.alloc.Release(prev) // prev came from the allocator
	}
	c.assigned[node.Name] = cidr
	delete(c.waiting, node.Name)
	fresh, err := c.alloc.Occupy(cidr)
	switch {
	case err != nil:
		// Outside the cluster CIDR (set by hand, or the CIDR changed):
		// nothing to reserve.
		logger.V(2).Info("Node pod CIDR is outside the cluster CIDR", "node", klog.KObj(node), "podCIDR", cidr, "err", err)
	case !fresh:
		if owner := c.ownerLocked(cidr, node.Name); owner != "" {
			logger.Info("Two nodes hold the same pod CIDR", "node", klog.KObj(node), "other", owner, "podCIDR", cidr)
		}
	}
}

// ownerLocked is another node holding cidr, if any.
func (c *Controller) ownerLocked(cidr netip.Prefix, except string) string {
	for name, p := range c.assigned {
		if p == cidr && name != except {
			return name
		}
	}
	return ""
}

// releaseLocked frees the CIDR of a deleted node and wakes the nodes that
// wait for one.
func (c *Controller) releaseLocked(name string) {
	delete(c.waiting, name)
	cidr, ok := c.assigned[name]
	if !ok {
		return
	}
	delete(c.assigned, name)
	if c.ownerLocked(cidr, name) != "" {
		return // still held by another node
	}
	if err := c.alloc.Release(cidr); err != nil {
		return // outside the allocator's range: never reserved
	}
	for waiting := range c.waiting {
		c.loop.Enqueue(waiting)
	}
}

// recordExhausted tells the node's viewers why it has no pod CIDR.
func (c *Controller) recordExhausted(ctx context.Context, node *corev1.Node) {
	now := metav1.NewTime(time.Now())
	event := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{GenerateName: node.Name + ".", Namespace: metav1.NamespaceDefault},
		InvolvedObject: corev1.ObjectReference{
			APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID,
		},
		Reason:         "CIDRNotAvailable",
		Message:        "Node " + node.Name + " status is now: CIDRNotAvailable (no free pod CIDR in the cluster CIDR)",
		Type:           corev1.EventTypeWarning,
		Source:         corev1.EventSource{Component: "nodeipam-controller"},
		FirstTimestamp: now,
		LastTimestamp:  now,
		Count:          1,
	}
	if _, err := c.client.CoreV1().Events(metav1.NamespaceDefault).Create(ctx, event, metav1.CreateOptions{}); err != nil {
		klog.FromContext(ctx).V(2).Info("Recording event failed", "node", klog.KObj(node), "err", err)
	}
}
