// Package servicelb is the built-in service load balancer: a Service of
// type LoadBalancer (without a loadBalancerClass) gets the addresses of
// the Ready nodes as its ingress IPs, and every node's service proxy
// forwards traffic for those addresses and the Service's ports, as k3s's
// service load balancer does. `kubectl get svc` then shows an EXTERNAL-IP.
package servicelb

import (
	"context"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/tugcluster/tug/internal/controller"
)

// Controller keeps the ingress of LoadBalancer Services.
type Controller struct {
	client   kubernetes.Interface
	services corelisters.ServiceLister
	nodes    corelisters.NodeLister
	synced   []cache.InformerSynced
	loop     *controller.Loop
}

// New returns the controller.
func New(client kubernetes.Interface, services coreinformers.ServiceInformer, nodes coreinformers.NodeInformer) (*Controller, error) {
	c := &Controller{
		client:   client,
		services: services.Lister(),
		nodes:    nodes.Lister(),
		synced:   []cache.InformerSynced{services.Informer().HasSynced, nodes.Informer().HasSynced},
	}
	c.loop = controller.New("service-lb", 2, c.sync)
	if _, err := services.Informer().AddEventHandler(c.loop.ObjectHandler()); err != nil {
		return nil, err
	}
	// A node coming or going changes every load balancer's addresses.
	_, err := nodes.Informer().AddEventHandler(controller.OnEvery(func(any) { c.enqueueAll() }))
	return c, err
}

// Run runs the controller until ctx ends.
func (c *Controller) Run(ctx context.Context) error { return c.loop.Run(ctx, c.synced...) }

func (c *Controller) enqueueAll() {
	svcs, err := c.services.List(labels.Everything())
	if err != nil {
		return
	}
	for _, svc := range svcs {
		if svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
			c.loop.EnqueueObject(svc)
		}
	}
}

func (c *Controller) sync(ctx context.Context, key string) error {
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	svc, err := c.services.Services(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	var want []corev1.LoadBalancerIngress
	switch {
	case svc.Spec.Type == corev1.ServiceTypeLoadBalancer && svc.Spec.LoadBalancerClass == nil:
		nodes, err := c.nodes.List(labels.Everything())
		if err != nil {
			return err
		}
		want = Ingress(nodes, svc.Spec.IPFamilies)
	case svc.Spec.Type == corev1.ServiceTypeLoadBalancer:
		return nil // another implementation's class
	case len(svc.Status.LoadBalancer.Ingress) == 0:
		return nil
	}
	if apiequality.Semantic.DeepEqual(svc.Status.LoadBalancer.Ingress, want) {
		return nil
	}
	updated := svc.DeepCopy()
	updated.Status.LoadBalancer.Ingress = want
	_, err = c.client.CoreV1().Services(namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil // gone, or changed: its event brings it back
	}
	return err
}

// Ingress is the load balancer ingress for Services of the given IP
// families: the ExternalIP of each Ready, schedulable node, else its
// InternalIP, sorted, IPMode VIP.
func Ingress(nodes []*corev1.Node, families []corev1.IPFamily) []corev1.LoadBalancerIngress {
	wantV6 := slices.Contains(families, corev1.IPv6Protocol)
	wantV4 := len(families) == 0 || slices.Contains(families, corev1.IPv4Protocol)
	var ips []netip.Addr
	for _, n := range nodes {
		if !ready(n) || n.Spec.Unschedulable {
			continue
		}
		for _, t := range []corev1.NodeAddressType{corev1.NodeExternalIP, corev1.NodeInternalIP} {
			ip := address(n, t, wantV4, wantV6)
			if ip.IsValid() {
				ips = append(ips, ip)
				break
			}
		}
	}
	slices.SortFunc(ips, func(a, b netip.Addr) int { return a.Compare(b) })
	ips = slices.Compact(ips)
	var out []corev1.LoadBalancerIngress
	vip := corev1.LoadBalancerIPModeVIP
	for _, ip := range ips {
		out = append(out, corev1.LoadBalancerIngress{IP: ip.String(), IPMode: &vip})
	}
	return out
}

func ready(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// address is the node's first address of type t in a wanted family.
func address(n *corev1.Node, t corev1.NodeAddressType, v4, v6 bool) netip.Addr {
	for _, a := range n.Status.Addresses {
		if a.Type != t {
			continue
		}
		ip, err := netip.ParseAddr(a.Address)
		if err == nil && (ip.Is4() && v4 || ip.Is6() && v6) {
			return ip
		}
	}
	return netip.Addr{}
}
