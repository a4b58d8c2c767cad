// Package proxy is the node's service proxy: it watches Services and
// EndpointSlices and keeps the node's nftables rules for ClusterIP,
// NodePort, external and load-balancer addresses in step with them,
// through the nft package's incremental syncs.
package proxy

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/tugcluster/tug/internal/controller"
	"github.com/tugcluster/tug/internal/proxy/nft"
)

// labelServiceProxyName marks Services (and their slices) that another
// proxy implements; this one leaves them alone, as kube-proxy does.
const labelServiceProxyName = "service.kubernetes.io/service-proxy-name"

// byService indexes EndpointSlices by the "namespace/name" of their
// Service.
const byService = "service"

// Proxy keeps one node's Service rules current.
type Proxy struct {
	opts     Options
	syncer   *nft.Syncer
	factory  informers.SharedInformerFactory
	services cache.SharedIndexInformer
	slices   cache.SharedIndexInformer
	trigger  chan struct{}
	synced   chan struct{}

	mu sync.Mutex
	// dirty are the keys of Services whose rules may have changed since
	// the last sync.
	dirty map[string]struct{}

	// state is the snapshot the last sync was given; only Run's goroutine
	// touches it.
	state *nft.State
}

// New builds a Proxy; Run starts it.
func New(opts Options) (*Proxy, error) {
	opts.setDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	syncer, err := nft.NewSyncer(nft.Options{
		Table: opts.Table, NodeName: opts.NodeName, NodeIPs: opts.NodeIPs, ClusterCIDRs: opts.ClusterCIDRs,
		ServiceCIDRs: opts.ServiceCIDRs, MasqueradeAll: opts.MasqueradeAll, NetNSFd: opts.NetNSFd,
	})
	if err != nil {
		return nil, err
	}
	p := &Proxy{
		opts:    opts,
		syncer:  syncer,
		trigger: make(chan struct{}, 1),
		synced:  make(chan struct{}),
		dirty:   map[string]struct{}{},
		state:   &nft.State{Services: map[string]*nft.Service{}},
	}
	p.factory = informers.NewSharedInformerFactoryWithOptions(opts.Client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = "!" + labelServiceProxyName }))
	p.services = p.factory.Core().V1().Services().Informer()
	p.slices = p.factory.Discovery().V1().EndpointSlices().Informer()
	if err := p.services.SetTransform(slimService); err != nil {
		return nil, err
	}
	if err := p.slices.SetTransform(slimSlice); err != nil {
		return nil, err
	}
	if err := p.slices.AddIndexers(cache.Indexers{byService: sliceService}); err != nil {
		return nil, err
	}
	if _, err := p.services.AddEventHandler(controller.OnEvery(func(obj any) {
		if svc, ok := controller.As[*corev1.Service](obj); ok {
			p.markDirty(svc.Namespace + "/" + svc.Name)
		}
	})); err != nil {
		return nil, err
	}
	onSlice := func(obj any) {
		if keys, _ := sliceService(obj); len(keys) > 0 {
			p.markDirty(keys[0])
		}
	}
	if _, err := p.slices.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: onSlice,
		// A slice could move to another Service: both change.
		UpdateFunc: func(old, obj any) { onSlice(old); onSlice(obj) },
		DeleteFunc: onSlice,
	}); err != nil {
		return nil, err
	}
	return p, nil
}

// sliceService is the byService index: the slice's Service, from its
// kubernetes.io/service-name label (slices without one belong to none).
func sliceService(obj any) ([]string, error) {
	s, ok := controller.As[*discoveryv1.EndpointSlice](obj)
	if !ok {
		return nil, nil
	}
	name := s.Labels[discoveryv1.LabelServiceName]
	if name == "" {
		return nil, nil
	}
	return []string{s.Namespace + "/" + name}, nil
}

func (p *Proxy) markDirty(key string) {
	p.mu.Lock()
	p.dirty[key] = struct{}{}
	p.mu.Unlock()
	p.poke()
}

func (p *Proxy) poke() {
	select {
	case p.trigger <- struct{}{}:
	default:
	}
}

// Synced is closed once the rules reflect the API's Services for the first
// time.
func (p *Proxy) Synced() <-chan struct{} { return p.synced }

// Run writes the rules and keeps them current until ctx ends, then returns
// after its informers stopped. It leaves the rules in place: connections
// keep working across an agent restart, whose first sync rebuilds them.
func (p *Proxy) Run(ctx context.Context) error {
	logger := klog.FromContext(ctx).WithValues("component", "proxy")
	ctx = klog.NewContext(ctx, logger)
	p.factory.Start(ctx.Done())
	defer p.factory.Shutdown()
	if !cache.WaitForCacheSync(ctx.Done(), p.services.HasSynced, p.slices.HasSynced) {
		return nil
	}
	p.poke()
	var (
		last  time.Time
		retry <-chan time.Time
	)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-p.trigger:
		case <-retry:
		}
		// Bursts of events (a rollout, a resync) coalesce into one sync
		// per period, while a lone change is applied at once.
		if wait := p.opts.MinSyncPeriod - time.Since(last); wait > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
		}
		last = time.Now()
		retry = nil
		if err := p.sync(ctx); err != nil {
			logger.Error(err, "Syncing Service rules failed; rebuilding them", "retryIn", p.opts.RetryPeriod)
			retry = time.After(p.opts.RetryPeriod)
		}
	}
}

// sync brings the dirty Services into the snapshot and the snapshot into
// the kernel.
func (p *Proxy) sync(ctx context.Context) error {
	p.mu.Lock()
	dirty := p.dirty
	p.dirty = map[string]struct{}{}
	p.mu.Unlock()
	for key := range dirty {
		if svc := p.build(key); svc != nil {
			p.state.Services[key] = svc
		} else {
			delete(p.state.Services, key)
		}
	}
	start := time.Now()
	stats, err := p.syncer.Sync(ctx, p.state)
	if err != nil {
		return fmt.Errorf("sync %d Services: %w", len(p.state.Services), err)
	}
	logger := klog.FromContext(ctx)
	if stats.Messages > 0 {
		logger.V(4).Info("Synced Service rules", "full", stats.Full, "changedServices", stats.Services,
			"messages", stats.Messages, "chains", stats.Chains, "rules", stats.Rules, "elements", stats.Elements,
			"duration", time.Since(start))
	}
	select {
	case <-p.synced:
	default:
		logger.V(2).Info("Service rules in place", "services", len(p.state.Services), "rules", stats.Rules,
			"duration", time.Since(start))
		close(p.synced)
	}
	return nil
}

// build returns the rules' view of the Service key from the caches, or nil
// when it is gone or gets no rules.
func (p *Proxy) build(key string) *nft.Service {
	obj, ok, err := p.services.GetIndexer().GetByKey(key)
	if err != nil || !ok {
		return nil
	}
	svc, ok := obj.(*corev1.Service)
	if !ok {
		return nil
	}
	objs, err := p.slices.GetIndexer().ByIndex(byService, key)
	if err != nil {
		return nil
	}
	slices := make([]*discoveryv1.EndpointSlice, 0, len(objs))
	for _, o := range objs {
		if s, ok := o.(*discoveryv1.EndpointSlice); ok {
			slices = append(slices, s)
		}
	}
	return serviceFromAPI(svc, slices)
}
