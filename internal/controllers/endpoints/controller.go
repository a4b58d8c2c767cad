// Package endpoints is the Endpoints controller: for every Service with a
// selector it keeps an Endpoints object of the same name listing the
// addresses of the selected pods.
package endpoints

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"

	"github.com/tugcluster/tug/internal/controller"
)

// Config is what the controller needs.
type Config struct {
	// Client writes Endpoints.
	Client kubernetes.Interface
	// Services, Pods and Endpoints are shared informers; the controller
	// adds handlers, so they must be built before the informers start.
	Services  coreinformers.ServiceInformer
	Pods      coreinformers.PodInformer
	Endpoints coreinformers.EndpointsInformer
	// Clock stamps the last-change-trigger-time when no object carries a
	// better time. Default the real clock.
	Clock clock.PassiveClock
}

// Controller keeps Endpoints in line with Services and their pods.
type Controller struct {
	client    kubernetes.Interface
	services  corelisters.ServiceLister
	pods      corelisters.PodLister
	endpoints corelisters.EndpointsLister
	synced    []cache.InformerSynced
	clock     clock.PassiveClock
	loop      *controller.Loop
}

// New returns the controller; Run starts it.
func New(cfg Config) (*Controller, error) {
	c := &Controller{
		client:    cfg.Client,
		services:  cfg.Services.Lister(),
		pods:      cfg.Pods.Lister(),
		endpoints: cfg.Endpoints.Lister(),
		synced: []cache.InformerSynced{cfg.Services.Informer().HasSynced, cfg.Pods.Informer().HasSynced,
			cfg.Endpoints.Informer().HasSynced},
		clock: cfg.Clock,
	}
	if c.clock == nil {
		c.clock = clock.RealClock{}
	}
	c.loop = controller.New("endpoints", 4, c.sync)
	if _, err := cfg.Services.Informer().AddEventHandler(c.loop.ObjectHandler()); err != nil {
		return nil, fmt.Errorf("watch services: %w", err)
	}
	if _, err := cfg.Pods.Informer().AddEventHandler(PodHandler(c.services, c.loop.Enqueue)); err != nil {
		return nil, fmt.Errorf("watch pods: %w", err)
	}
	// A deleted or edited Endpoints object of a Service is put back; one
	// without a Service is someone else's (upstream's controller leaves it
	// alone too) until a Service of its name comes.
	ofService := func(obj any) {
		key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
		if err != nil {
			return
		}
		ns, name, err := cache.SplitMetaNamespaceKey(key)
		if err != nil {
			return
		}
		if _, err := c.services.Services(ns).Get(name); err == nil {
			c.loop.Enqueue(key)
		}
	}
	if _, err := cfg.Endpoints.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(_, obj any) { ofService(obj) },
		DeleteFunc: ofService,
	}); err != nil {
		return nil, fmt.Errorf("watch endpoints: %w", err)
	}
	return c, nil
}

// Run runs the controller until ctx ends.
func (c *Controller) Run(ctx context.Context) error { return c.loop.Run(ctx, c.synced...) }

// PodHandler enqueues the key of every Service that selects a pod, before
// and after a change, so a pod leaving a selector is noticed too.
func PodHandler(services corelisters.ServiceLister, enqueue func(key string)) cache.ResourceEventHandler {
	handle := func(obj any) {
		pod, ok := controller.As[*corev1.Pod](obj)
		if !ok {
			return
		}
		svcs, err := services.Services(pod.Namespace).List(labels.Everything())
		if err != nil {
			return
		}
		for _, svc := range svcs {
			if Manages(svc) && labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(pod.Labels)) {
				enqueue(svc.Namespace + "/" + svc.Name)
			}
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc: handle,
		UpdateFunc: func(old, obj any) {
			handle(old)
			handle(obj)
		},
		DeleteFunc: handle,
	}
}
