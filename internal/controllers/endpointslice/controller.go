// Package endpointslice is the EndpointSlice controller: for every Service
// with a selector it keeps discovery.k8s.io/v1 EndpointSlices listing the
// selected pods, at most MaxEndpointsPerSlice each, changing as few slices
// as it can.
package endpointslice

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	coreinformers "k8s.io/client-go/informers/core/v1"
	discoveryinformers "k8s.io/client-go/informers/discovery/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/tugcluster/tug/internal/controller"
	"github.com/tugcluster/tug/internal/controllers/endpoints"
)

// Config is what the controller needs.
type Config struct {
	// Client reads and writes EndpointSlices.
	Client kubernetes.Interface
	// Services, Pods, Nodes and Slices are shared informers; the
	// controller adds handlers, so they must be built before the informers
	// start.
	Services coreinformers.ServiceInformer
	Pods     coreinformers.PodInformer
	Nodes    coreinformers.NodeInformer
	Slices   discoveryinformers.EndpointSliceInformer
}

// Controller keeps EndpointSlices in line with Services and their pods.
type Controller struct {
	client   kubernetes.Interface
	services corelisters.ServiceLister
	pods     corelisters.PodLister
	nodes    corelisters.NodeLister
	synced   []cache.InformerSynced
	loop     *controller.Loop
}

// New returns the controller; Run starts it.
func New(cfg Config) (*Controller, error) {
	c := &Controller{
		client:   cfg.Client,
		services: cfg.Services.Lister(),
		pods:     cfg.Pods.Lister(),
		nodes:    cfg.Nodes.Lister(),
		synced: []cache.InformerSynced{cfg.Services.Informer().HasSynced, cfg.Pods.Informer().HasSynced,
			cfg.Nodes.Informer().HasSynced, cfg.Slices.Informer().HasSynced},
	}
	c.loop = controller.New("endpointslice", 4, c.sync)
	if _, err := cfg.Services.Informer().AddEventHandler(c.loop.ObjectHandler()); err != nil {
		return nil, fmt.Errorf("watch services: %w", err)
	}
	if _, err := cfg.Pods.Informer().AddEventHandler(endpoints.PodHandler(c.services, c.loop.Enqueue)); err != nil {
		return nil, fmt.Errorf("watch pods: %w", err)
	}
	if _, err := cfg.Slices.Informer().AddEventHandler(SliceHandler(ManagedBy, c.loop.Enqueue)); err != nil {
		return nil, fmt.Errorf("watch endpointslices: %w", err)
	}
	return c, nil
}

// SliceHandler enqueues the namespace/name key of the Service of a slice
// labeled as managed by managedBy when someone else edits or deletes it,
// so that its controller puts it right.
func SliceHandler(managedBy string, enqueue func(key string)) cache.ResourceEventHandler {
	onSlice := func(obj any) {
		if s, ok := controller.As[*discoveryv1.EndpointSlice](obj); ok && s.Labels[LabelManagedBy] == managedBy && s.Labels[LabelServiceName] != "" {
			enqueue(s.Namespace + "/" + s.Labels[LabelServiceName])
		}
	}
	return cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(_, obj any) { onSlice(obj) },
		DeleteFunc: onSlice,
	}
}

// Run runs the controller until ctx ends.
func (c *Controller) Run(ctx context.Context) error { return c.loop.Run(ctx, c.synced...) }

func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil //nolint:nilerr // a malformed key will never sync
	}
	svc, err := c.services.Services(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil // the garbage collector removes slices owned by the Service
	}
	if err != nil {
		return err
	}
	if !endpoints.Manages(svc) || svc.DeletionTimestamp != nil {
		return nil
	}
	pods, err := c.pods.Pods(ns).List(labels.SelectorFromSet(svc.Spec.Selector))
	if err != nil {
		return err
	}
	// The slices come from the API server, not the cache: a slice created
	// by the last sync may not be cached yet, and must not be made twice.
	list, err := c.client.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{
		LabelSelector: labels.SelectorFromSet(labels.Set{LabelServiceName: name, LabelManagedBy: ManagedBy}).String(),
	})
	if err != nil {
		return fmt.Errorf("list endpointslices of %s: %w", key, err)
	}
	var existing []*discoveryv1.EndpointSlice
	for i := range list.Items {
		s := &list.Items[i]
		if s.AddressType == discoveryv1.AddressTypeIPv4 && metav1.IsControlledBy(s, svc) {
			existing = append(existing, s)
		}
	}
	plan := Reconcile(svc, Desired(svc, pods, c.zones(pods)), existing)
	return c.apply(ctx, plan)
}

// apply writes plan: creations and updates first, so readers never see a
// service lose endpoints that merely move.
func (c *Controller) apply(ctx context.Context, plan Plan) error {
	logger := klog.FromContext(ctx)
	for _, s := range plan.Create {
		if _, err := c.client.DiscoveryV1().EndpointSlices(s.Namespace).Create(ctx, s, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create endpointslice for %s: %w", s.GenerateName, err)
		}
	}
	for _, s := range plan.Update {
		if _, err := c.client.DiscoveryV1().EndpointSlices(s.Namespace).Update(ctx, s, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("update endpointslice %s: %w", s.Name, err)
		}
	}
	for _, s := range plan.Delete {
		err := c.client.DiscoveryV1().EndpointSlices(s.Namespace).Delete(ctx, s.Name, metav1.DeleteOptions{
			Preconditions: &metav1.Preconditions{UID: &s.UID}})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete endpointslice %s: %w", s.Name, err)
		}
	}
	if n := len(plan.Create) + len(plan.Update) + len(plan.Delete); n > 0 {
		logger.V(4).Info("Wrote endpointslices", "created", len(plan.Create), "updated", len(plan.Update), "deleted", len(plan.Delete))
	}
	return nil
}

// zones maps the nodes of pods to their topology zone label.
func (c *Controller) zones(pods []*corev1.Pod) map[string]string {
	out := map[string]string{}
	for _, pod := range pods {
		name := pod.Spec.NodeName
		if _, done := out[name]; done || name == "" {
			continue
		}
		out[name] = ""
		if node, err := c.nodes.Get(name); err == nil {
			out[name] = node.Labels[corev1.LabelTopologyZone]
		}
	}
	return out
}
