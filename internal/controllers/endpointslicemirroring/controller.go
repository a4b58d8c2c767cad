// Package endpointslicemirroring is the EndpointSlice mirroring
// controller: for a Service without a selector, whose Endpoints object its
// owner writes by hand, it keeps discovery.k8s.io/v1 EndpointSlices with
// the same addresses, so that consumers of slices (the service proxy, DNS)
// see them too.
package endpointslicemirroring

import (
	"context"
	"fmt"
	"maps"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	coreinformers "k8s.io/client-go/informers/core/v1"
	discoveryinformers "k8s.io/client-go/informers/discovery/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/tugcluster/tug/internal/controller"
	"github.com/tugcluster/tug/internal/controllers/endpointslice"
)

// Labels of mirrored slices, as upstream's controller sets them.
const (
	// ManagedBy is the endpointslice.kubernetes.io/managed-by value.
	ManagedBy = "endpointslicemirroring-controller.k8s.io"
	// LabelSkipMirror on an Endpoints object turns mirroring off.
	LabelSkipMirror = "endpointslice.kubernetes.io/skip-mirror"
)

// Config is what the controller needs.
type Config struct {
	// Client writes EndpointSlices.
	Client kubernetes.Interface
	// Services, Endpoints and Slices are shared informers; the controller
	// adds handlers, so they must be built before the informers start.
	Services  coreinformers.ServiceInformer
	Endpoints coreinformers.EndpointsInformer //nolint:staticcheck // SA1019: mirroring reads the Endpoints API
	Slices    discoveryinformers.EndpointSliceInformer
}

// Controller mirrors Endpoints of selectorless Services into slices.
type Controller struct {
	client    kubernetes.Interface
	services  corelisters.ServiceLister
	endpoints corelisters.EndpointsLister //nolint:staticcheck // SA1019: as above
	synced    []cache.InformerSynced
	loop      *controller.Loop
}

// New returns the controller; Run starts it.
func New(cfg Config) (*Controller, error) {
	c := &Controller{
		client:    cfg.Client,
		services:  cfg.Services.Lister(),
		endpoints: cfg.Endpoints.Lister(),
		synced: []cache.InformerSynced{cfg.Services.Informer().HasSynced, cfg.Endpoints.Informer().HasSynced,
			cfg.Slices.Informer().HasSynced},
	}
	c.loop = controller.New("endpointslicemirroring", 2, c.sync)
	if _, err := cfg.Services.Informer().AddEventHandler(c.loop.ObjectHandler()); err != nil {
		return nil, fmt.Errorf("watch services: %w", err)
	}
	if _, err := cfg.Endpoints.Informer().AddEventHandler(c.loop.ObjectHandler()); err != nil {
		return nil, fmt.Errorf("watch endpoints: %w", err)
	}
	// A mirrored slice edited or deleted by someone else is put right.
	if _, err := cfg.Slices.Informer().AddEventHandler(endpointslice.SliceHandler(ManagedBy, c.loop.Enqueue)); err != nil {
		return nil, fmt.Errorf("watch endpointslices: %w", err)
	}
	return c, nil
}

// Run runs the controller until ctx ends.
func (c *Controller) Run(ctx context.Context) error { return c.loop.Run(ctx, c.synced...) }

func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil //nolint:nilerr // a malformed key will never sync
	}
	var want []*discoveryv1.EndpointSlice
	svc, err := c.services.Services(ns).Get(name)
	switch {
	case apierrors.IsNotFound(err):
		// No Service: nothing to mirror; its slices go (the garbage
		// collector would remove them too, as the Service owns them).
	case err != nil:
		return err
	case svc.Spec.Selector == nil && svc.DeletionTimestamp == nil:
		ep, err := c.endpoints.Endpoints(ns).Get(name)
		if err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		if ep != nil && ep.Labels[LabelSkipMirror] != "true" {
			want = Desired(svc, ep)
		}
	}
	// From the API server, not the cache: a slice the last sync created
	// may not be cached yet.
	list, err := c.client.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(labels.Set{
		discoveryv1.LabelServiceName: name, discoveryv1.LabelManagedBy: ManagedBy}).String()})
	if err != nil {
		return fmt.Errorf("list mirrored endpointslices of %s: %w", key, err)
	}
	have := map[string]*discoveryv1.EndpointSlice{}
	for i := range list.Items {
		have[list.Items[i].Name] = &list.Items[i]
	}
	slices := c.client.DiscoveryV1().EndpointSlices(ns)
	for _, s := range want {
		cur, ok := have[s.Name]
		delete(have, s.Name)
		switch {
		case !ok:
			if _, err := slices.Create(ctx, s, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				return fmt.Errorf("create endpointslice %s/%s: %w", ns, s.Name, err)
			}
		case !sameSlice(cur, s):
			s.ResourceVersion = cur.ResourceVersion
			if _, err := slices.Update(ctx, s, metav1.UpdateOptions{}); err != nil {
				return fmt.Errorf("update endpointslice %s/%s: %w", ns, s.Name, err)
			}
		}
	}
	for name := range have {
		if err := slices.Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete endpointslice %s/%s: %w", ns, name, err)
		}
	}
	return nil
}

func sameSlice(a, b *discoveryv1.EndpointSlice) bool {
	return maps.Equal(a.Labels, b.Labels) && a.AddressType == b.AddressType &&
		apiequality.Semantic.DeepEqual(a.Endpoints, b.Endpoints) && apiequality.Semantic.DeepEqual(a.Ports, b.Ports)
}

// Desired returns the slices that mirror ep, the Endpoints of svc: one per
// subset and address family, named after the Service, owned by it and
// labeled with the Endpoints object's labels plus the service name and
// this controller.
func Desired(svc *corev1.Service, ep *corev1.Endpoints) []*discoveryv1.EndpointSlice { //nolint:staticcheck // SA1019: as above
	var out []*discoveryv1.EndpointSlice
	for i := range ep.Subsets {
		subset := &ep.Subsets[i]
		byFamily := map[discoveryv1.AddressType][]discoveryv1.Endpoint{}
		add := func(addrs []corev1.EndpointAddress, ready bool) { //nolint:staticcheck // SA1019: as above
			for _, a := range addrs {
				family := discoveryv1.AddressTypeIPv4
				if isIPv6(a.IP) {
					family = discoveryv1.AddressTypeIPv6
				}
				e := discoveryv1.Endpoint{
					Addresses:  []string{a.IP},
					Conditions: discoveryv1.EndpointConditions{Ready: &ready, Serving: &ready, Terminating: new(false)},
					NodeName:   a.NodeName,
					TargetRef:  a.TargetRef,
				}
				if a.Hostname != "" {
					e.Hostname = new(a.Hostname)
				}
				byFamily[family] = append(byFamily[family], e)
			}
		}
		add(subset.Addresses, true)
		add(subset.NotReadyAddresses, false)
		ports := make([]discoveryv1.EndpointPort, 0, len(subset.Ports))
		for _, p := range subset.Ports {
			ports = append(ports, discoveryv1.EndpointPort{Name: new(p.Name), Port: new(p.Port), Protocol: new(p.Protocol), AppProtocol: p.AppProtocol})
		}
		for _, family := range []discoveryv1.AddressType{discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6} {
			eps := byFamily[family]
			if len(eps) == 0 {
				continue
			}
			lbls := maps.Clone(ep.Labels)
			if lbls == nil {
				lbls = map[string]string{}
			}
			lbls[discoveryv1.LabelServiceName] = svc.Name
			lbls[discoveryv1.LabelManagedBy] = ManagedBy
			out = append(out, &discoveryv1.EndpointSlice{
				ObjectMeta: metav1.ObjectMeta{
					Name:      fmt.Sprintf("%s-mirror-%d-%s", svc.Name, i, map[discoveryv1.AddressType]string{discoveryv1.AddressTypeIPv4: "ipv4", discoveryv1.AddressTypeIPv6: "ipv6"}[family]),
					Namespace: svc.Namespace, Labels: lbls,
					OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(svc, corev1.SchemeGroupVersion.WithKind("Service"))},
				},
				AddressType: family,
				Endpoints:   eps,
				Ports:       ports,
			})
		}
	}
	return out
}

func isIPv6(ip string) bool { return strings.Contains(ip, ":") }
