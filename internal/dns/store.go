package dns

import (
	"fmt"
	"net/netip"
	"slices"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// Store holds the cluster objects the server answers from. Implementations
// are safe for concurrent use and answer from memory: the server makes no
// API call per query. Returned objects are shared and must not be mutated.
type Store interface {
	// Service returns the Service namespace/name, or nil.
	Service(namespace, name string) *corev1.Service
	// ServicesByIP returns the Services that have ip among their cluster
	// IPs.
	ServicesByIP(ip netip.Addr) []*corev1.Service
	// EndpointSlices returns the EndpointSlices of the Service
	// namespace/service (by their kubernetes.io/service-name label).
	EndpointSlices(namespace, service string) []*discoveryv1.EndpointSlice
	// EndpointSlicesByIP returns the EndpointSlices with an endpoint
	// address ip.
	EndpointSlicesByIP(ip netip.Addr) []*discoveryv1.EndpointSlice
	// Namespace tells whether the namespace exists.
	Namespace(name string) bool
	// Pod tells whether a pod in namespace has address ip. Stores built
	// without pods (PodsVerified not asked for) answer false.
	Pod(namespace string, ip netip.Addr) bool
	// Serial is the SOA serial: the Unix time of the last change seen.
	Serial() uint32
}

// Index names of the indexers.
const (
	byIP      = "ip"      // Services: cluster IPs; Pods: namespace/ip
	byBlock   = "block"   // EndpointSlices: the blocks of their addresses
	byService = "service" // EndpointSlices: namespace/service-name
)

// indexStore is the Store over client-go indexers, filled by informers or,
// for NewStore, directly.
type indexStore struct {
	services, slices, namespaces, pods cache.Indexer
	serial                             atomic.Uint32
}

var _ Store = (*indexStore)(nil)

// NewStore returns a Store holding objs (Services, EndpointSlices,
// Namespaces and Pods; other kinds are an error), slimmed as the informers
// slim them. It never changes: tests and benchmarks use it in place of a
// cluster.
func NewStore(objs ...runtime.Object) (Store, error) {
	s := &indexStore{
		services:   cache.NewIndexer(cache.MetaNamespaceKeyFunc, serviceIndexers()),
		slices:     cache.NewIndexer(cache.MetaNamespaceKeyFunc, sliceIndexers()),
		namespaces: cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{}),
		pods:       cache.NewIndexer(cache.MetaNamespaceKeyFunc, podIndexers()),
	}
	s.touch()
	for _, obj := range objs {
		slim, err := slimObject(obj)
		if err != nil {
			return nil, err
		}
		var target cache.Indexer
		switch obj.(type) {
		case *corev1.Service:
			target = s.services
		case *discoveryv1.EndpointSlice:
			target = s.slices
		case *corev1.Namespace:
			target = s.namespaces
		case *corev1.Pod:
			target = s.pods
		default:
			return nil, fmt.Errorf("dns store: unsupported object %T", obj)
		}
		if err := target.Add(slim); err != nil {
			return nil, fmt.Errorf("dns store: add %T: %w", obj, err)
		}
	}
	return s, nil
}

// informerStore is an indexStore kept current by informers.
type informerStore struct {
	indexStore
	factory informers.SharedInformerFactory
	synced  []cache.InformerSynced
}

// newInformerStore builds (but does not start) the informers: Services,
// EndpointSlices and Namespaces, and Pods when withPods is set, each
// object slimmed to what the records need.
func newInformerStore(client kubernetes.Interface, withPods bool) (*informerStore, error) {
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0,
		informers.WithTransform(func(obj any) (any, error) { return slimObject(obj) }))
	s := &informerStore{factory: factory}
	s.touch()
	bump := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { s.touch() },
		UpdateFunc: func(any, any) { s.touch() },
		DeleteFunc: func(any) { s.touch() },
	}
	add := func(inf cache.SharedIndexInformer, idx cache.Indexers) (cache.Indexer, error) {
		if err := inf.AddIndexers(idx); err != nil {
			return nil, fmt.Errorf("dns informers: %w", err)
		}
		if _, err := inf.AddEventHandler(bump); err != nil {
			return nil, fmt.Errorf("dns informers: %w", err)
		}
		s.synced = append(s.synced, inf.HasSynced)
		return inf.GetIndexer(), nil
	}
	var err error
	if s.services, err = add(factory.Core().V1().Services().Informer(), serviceIndexers()); err != nil {
		return nil, err
	}
	if s.slices, err = add(factory.Discovery().V1().EndpointSlices().Informer(), sliceIndexers()); err != nil {
		return nil, err
	}
	if s.namespaces, err = add(factory.Core().V1().Namespaces().Informer(), cache.Indexers{}); err != nil {
		return nil, err
	}
	if withPods {
		if s.pods, err = add(factory.Core().V1().Pods().Informer(), podIndexers()); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *indexStore) touch() { s.serial.Store(uint32(time.Now().Unix())) }

func (s *indexStore) Serial() uint32 { return s.serial.Load() }

func (s *indexStore) Service(namespace, name string) *corev1.Service {
	obj, ok, err := s.services.GetByKey(namespace + "/" + name)
	if err != nil || !ok {
		return nil
	}
	return obj.(*corev1.Service)
}

func (s *indexStore) ServicesByIP(ip netip.Addr) []*corev1.Service {
	return byIndex[*corev1.Service](s.services, byIP, ip.String())
}

func (s *indexStore) EndpointSlices(namespace, service string) []*discoveryv1.EndpointSlice {
	return byIndex[*discoveryv1.EndpointSlice](s.slices, byService, namespace+"/"+service)
}

func (s *indexStore) EndpointSlicesByIP(ip netip.Addr) []*discoveryv1.EndpointSlice {
	var out []*discoveryv1.EndpointSlice
	for _, es := range byIndex[*discoveryv1.EndpointSlice](s.slices, byBlock, block(ip)) {
		if hasAddress(es, ip) {
			out = append(out, es)
		}
	}
	return out
}

// block is the index value of an endpoint address: its /24 (IPv4) or
// /120 (IPv6). An index entry per address would cost some 300 bytes per
// endpoint, most of the store at 100,000 endpoints; one per block of 256
// costs a few, and a reverse lookup filters the slices of one block.
func block(ip netip.Addr) string {
	bits := 24
	if ip.Is6() {
		bits = 120
	}
	return netip.PrefixFrom(ip, bits).Masked().String()
}

// hasAddress tells whether es has an endpoint with address ip; the slim
// slices hold addresses in canonical form (canonicalAddresses).
func hasAddress(es *discoveryv1.EndpointSlice, ip netip.Addr) bool {
	s := ip.String()
	for i := range es.Endpoints {
		if slices.Contains(es.Endpoints[i].Addresses, s) {
			return true
		}
	}
	return false
}

// canonicalAddresses returns addrs with every address in netip's form
// ("fd00::1", not "fd00:0::01"), so that a lookup compares strings; addrs
// itself when it already is.
func canonicalAddresses(addrs []string) []string {
	var out []string
	for i, a := range addrs {
		ip, err := netip.ParseAddr(a)
		if err != nil || ip.Unmap().String() == a {
			continue
		}
		if out == nil {
			out = slices.Clone(addrs)
		}
		out[i] = ip.Unmap().String()
	}
	if out == nil {
		return addrs
	}
	return out
}

func (s *indexStore) Namespace(name string) bool {
	_, ok, err := s.namespaces.GetByKey(name)
	return err == nil && ok
}

func (s *indexStore) Pod(namespace string, ip netip.Addr) bool {
	if s.pods == nil {
		return false
	}
	keys, err := s.pods.IndexKeys(byIP, namespace+"/"+ip.String())
	return err == nil && len(keys) > 0
}

// byIndex returns the objects of idx under index name and value; an
// unknown index (a programming error the tests catch) returns none.
func byIndex[T any](idx cache.Indexer, name, value string) []T {
	objs, err := idx.ByIndex(name, value)
	if err != nil || len(objs) == 0 {
		return nil
	}
	out := make([]T, 0, len(objs))
	for _, o := range objs {
		if t, ok := o.(T); ok {
			out = append(out, t)
		}
	}
	return out
}

func serviceIndexers() cache.Indexers {
	return cache.Indexers{byIP: func(obj any) ([]string, error) {
		svc, ok := obj.(*corev1.Service)
		if !ok {
			return nil, nil
		}
		var keys []string
		for _, ip := range clusterIPs(svc) {
			keys = append(keys, ip.String())
		}
		return keys, nil
	}}
}

func sliceIndexers() cache.Indexers {
	return cache.Indexers{
		byService: func(obj any) ([]string, error) {
			es, ok := obj.(*discoveryv1.EndpointSlice)
			if !ok {
				return nil, nil
			}
			name := es.Labels[discoveryv1.LabelServiceName]
			if name == "" {
				return nil, nil
			}
			return []string{es.Namespace + "/" + name}, nil
		},
		byBlock: func(obj any) ([]string, error) {
			es, ok := obj.(*discoveryv1.EndpointSlice)
			if !ok {
				return nil, nil
			}
			var keys []string
			for i := range es.Endpoints {
				for _, a := range es.Endpoints[i].Addresses {
					if ip, err := netip.ParseAddr(a); err == nil {
						if k := block(ip.Unmap()); !slices.Contains(keys, k) {
							keys = append(keys, k)
						}
					}
				}
			}
			return keys, nil
		},
	}
}

func podIndexers() cache.Indexers {
	return cache.Indexers{byIP: func(obj any) ([]string, error) {
		pod, ok := obj.(*corev1.Pod)
		if !ok {
			return nil, nil
		}
		var keys []string
		for _, p := range pod.Status.PodIPs {
			if ip, err := netip.ParseAddr(p.IP); err == nil {
				keys = append(keys, pod.Namespace+"/"+ip.Unmap().String())
			}
		}
		return keys, nil
	}}
}

// slimObject keeps of an object only what the records need: a server
// watching every Service, EndpointSlice and (optionally) Pod of a large
// cluster on each node must not hold their full specs. Other values pass
// unchanged.
func slimObject(obj any) (any, error) {
	switch o := obj.(type) {
	case *corev1.Service:
		ports := make([]corev1.ServicePort, len(o.Spec.Ports))
		for i, p := range o.Spec.Ports {
			ports[i] = corev1.ServicePort{Name: p.Name, Protocol: p.Protocol, Port: p.Port}
		}
		return &corev1.Service{ObjectMeta: slimMeta(&o.ObjectMeta, nil), Spec: corev1.ServiceSpec{
			Type:                     o.Spec.Type,
			ClusterIP:                o.Spec.ClusterIP,
			ClusterIPs:               o.Spec.ClusterIPs,
			ExternalName:             o.Spec.ExternalName,
			Ports:                    ports,
			PublishNotReadyAddresses: o.Spec.PublishNotReadyAddresses,
		}}, nil
	case *discoveryv1.EndpointSlice:
		eps := make([]discoveryv1.Endpoint, len(o.Endpoints))
		for i, ep := range o.Endpoints {
			eps[i] = discoveryv1.Endpoint{Addresses: canonicalAddresses(ep.Addresses), Hostname: ep.Hostname,
				Conditions: discoveryv1.EndpointConditions{Ready: ep.Conditions.Ready}}
		}
		var labels map[string]string
		if name, ok := o.Labels[discoveryv1.LabelServiceName]; ok {
			labels = map[string]string{discoveryv1.LabelServiceName: name}
		}
		return &discoveryv1.EndpointSlice{ObjectMeta: slimMeta(&o.ObjectMeta, labels),
			AddressType: o.AddressType, Endpoints: eps, Ports: o.Ports}, nil
	case *corev1.Namespace:
		return &corev1.Namespace{ObjectMeta: slimMeta(&o.ObjectMeta, nil)}, nil
	case *corev1.Pod:
		return &corev1.Pod{ObjectMeta: slimMeta(&o.ObjectMeta, nil),
			Status: corev1.PodStatus{PodIP: o.Status.PodIP, PodIPs: o.Status.PodIPs}}, nil
	}
	return obj, nil
}

func slimMeta(m *metav1.ObjectMeta, labels map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, UID: m.UID,
		ResourceVersion: m.ResourceVersion, Labels: labels}
}

// clusterIPs returns the Service's valid cluster IPs: none for a headless
// or ExternalName Service.
func clusterIPs(svc *corev1.Service) []netip.Addr {
	list := svc.Spec.ClusterIPs
	if len(list) == 0 && svc.Spec.ClusterIP != "" {
		list = []string{svc.Spec.ClusterIP}
	}
	var ips []netip.Addr
	for _, s := range list {
		if ip, err := netip.ParseAddr(s); err == nil {
			ips = append(ips, ip.Unmap())
		}
	}
	return ips
}
