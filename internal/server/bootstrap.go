package server

import (
	"context"
	"fmt"
	"net"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/tugcluster/tug/internal/admission"
	"github.com/tugcluster/tug/internal/apiserver/registry"
)

const (
	// kubernetesServiceIP is the first address of the service CIDR, the
	// address of the `kubernetes` Service.
	kubernetesServiceIP = "10.43.0.1"
	// serviceCIDR is the range service cluster IPs come from.
	serviceCIDR = "10.43.0.0/16"
	// clusterDNSIP is the address of the kube-dns Service, which every
	// node's agent answers (its DNS server is the Service's node-local
	// endpoint).
	clusterDNSIP = "10.43.0.10"
)

// bootstrap creates the objects every cluster has, when missing, and
// points the kubernetes Service at this server (address and port can change
// between starts).
func bootstrap(ctx context.Context, stores map[schema.GroupVersionResource]*registry.Store, address string, port int) error {
	namespaces := stores[corev1.SchemeGroupVersion.WithResource("namespaces")]
	for _, name := range []string{metav1.NamespaceDefault, metav1.NamespaceSystem, metav1.NamespacePublic, corev1.NamespaceNodeLease} {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{corev1.LabelMetadataName: name}}}
		if err := ensure(ctx, namespaces, "", ns); err != nil {
			return err
		}
	}
	for _, pc := range admission.SystemPriorityClasses() {
		if err := ensure(ctx, stores[schedulingv1.SchemeGroupVersion.WithResource("priorityclasses")], "", pc); err != nil {
			return err
		}
	}
	cidr := &networkingv1.ServiceCIDR{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes"},
		Spec:       networkingv1.ServiceCIDRSpec{CIDRs: []string{serviceCIDR}},
	}
	if err := ensure(ctx, stores[networkingv1.SchemeGroupVersion.WithResource("servicecidrs")], "", cidr); err != nil {
		return err
	}
	if err := ensure(ctx, stores[corev1.SchemeGroupVersion.WithResource("services")], metav1.NamespaceSystem, kubeDNSService()); err != nil {
		return err
	}
	labels := map[string]string{"component": "apiserver", "provider": "kubernetes"}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: metav1.NamespaceDefault, Labels: labels},
		Spec: corev1.ServiceSpec{
			Type:            corev1.ServiceTypeClusterIP,
			ClusterIP:       kubernetesServiceIP,
			ClusterIPs:      []string{kubernetesServiceIP},
			IPFamilies:      []corev1.IPFamily{corev1.IPv4Protocol},
			SessionAffinity: corev1.ServiceAffinityNone,
			Ports: []corev1.ServicePort{{
				Name: "https", Protocol: corev1.ProtocolTCP, Port: 443, TargetPort: intstr.FromInt32(int32(port)),
			}},
		},
	}
	if err := reconcile(ctx, stores[corev1.SchemeGroupVersion.WithResource("services")], metav1.NamespaceDefault, svc,
		func(cur runtime.Object) { cur.(*corev1.Service).Spec.Ports = svc.Spec.Ports }); err != nil {
		return err
	}
	family := discoveryv1.AddressTypeIPv4
	if ip := net.ParseIP(address); ip != nil && ip.To4() == nil {
		family = discoveryv1.AddressTypeIPv6
	}
	portName, protocol, port32 := "https", corev1.ProtocolTCP, int32(port)
	subsets := []corev1.EndpointSubset{{ //nolint:staticcheck // SA1019: Endpoints are still served and read
		Addresses: []corev1.EndpointAddress{{IP: address}},
		Ports:     []corev1.EndpointPort{{Name: portName, Port: port32, Protocol: protocol}}, //nolint:staticcheck // SA1019
	}}
	endpoints := &corev1.Endpoints{ //nolint:staticcheck // SA1019
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: metav1.NamespaceDefault, Labels: map[string]string{"endpointslice.kubernetes.io/skip-mirror": "true"}},
		Subsets:    subsets,
	}
	if err := reconcile(ctx, stores[corev1.SchemeGroupVersion.WithResource("endpoints")], metav1.NamespaceDefault, endpoints,
		func(cur runtime.Object) { cur.(*corev1.Endpoints).Subsets = subsets }); err != nil { //nolint:staticcheck // SA1019
		return err
	}
	ready := true
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: metav1.NamespaceDefault, Labels: map[string]string{
			discoveryv1.LabelServiceName: "kubernetes",
			discoveryv1.LabelManagedBy:   "tug-server",
		}},
		AddressType: family,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{address}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}},
		Ports:       []discoveryv1.EndpointPort{{Name: &portName, Port: &port32, Protocol: &protocol}},
	}
	return reconcile(ctx, stores[discoveryv1.SchemeGroupVersion.WithResource("endpointslices")], metav1.NamespaceDefault, slice,
		func(cur runtime.Object) {
			s := cur.(*discoveryv1.EndpointSlice)
			s.AddressType, s.Endpoints, s.Ports = slice.AddressType, slice.Endpoints, slice.Ports
		})
}

// kubeDNSService is the cluster DNS Service. It has no selector: each
// node's agent publishes an EndpointSlice for its own DNS server, and the
// internal traffic policy Local keeps every pod's queries on its node.
func kubeDNSService() *corev1.Service {
	local := corev1.ServiceInternalTrafficPolicyLocal
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "kube-dns", Namespace: metav1.NamespaceSystem, Labels: map[string]string{
			"k8s-app": "kube-dns", "kubernetes.io/name": "tug-dns", "kubernetes.io/cluster-service": "true",
		}},
		Spec: corev1.ServiceSpec{
			Type:                  corev1.ServiceTypeClusterIP,
			ClusterIP:             clusterDNSIP,
			ClusterIPs:            []string{clusterDNSIP},
			IPFamilies:            []corev1.IPFamily{corev1.IPv4Protocol},
			InternalTrafficPolicy: &local,
			Ports: []corev1.ServicePort{
				{Name: "dns", Protocol: corev1.ProtocolUDP, Port: 53, TargetPort: intstr.FromInt32(53)},
				{Name: "dns-tcp", Protocol: corev1.ProtocolTCP, Port: 53, TargetPort: intstr.FromInt32(53)},
			},
		},
	}
}

// ensure creates obj unless it exists.
func ensure(ctx context.Context, store *registry.Store, namespace string, obj runtime.Object) error {
	if store == nil {
		return fmt.Errorf("no store for %T", obj)
	}
	_, err := store.Create(ctx, namespace, obj, &metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return nil
}

// reconcile creates obj, or if it exists applies set to the stored object.
func reconcile(ctx context.Context, store *registry.Store, namespace string, obj runtime.Object, set func(runtime.Object)) error {
	if store == nil {
		return fmt.Errorf("no store for %T", obj)
	}
	_, err := store.Create(ctx, namespace, obj.DeepCopyObject(), &metav1.CreateOptions{})
	if !apierrors.IsAlreadyExists(err) {
		return err
	}
	name := obj.(metav1.Object).GetName()
	_, _, err = store.Update(ctx, namespace, name, func(_ context.Context, current runtime.Object) (runtime.Object, error) {
		if current == nil {
			return obj.DeepCopyObject(), nil
		}
		next := current.DeepCopyObject()
		set(next)
		return next, nil
	}, registry.UpdateOptions{})
	return err
}
