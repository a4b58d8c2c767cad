package server

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/tugcluster/tug/internal/apiserver/registry"
)

// kubernetesServiceIP is the first address of the service CIDR, the
// address of the `kubernetes` Service.
const kubernetesServiceIP = "10.43.0.1"

// serviceCIDR is the range service cluster IPs come from.
const serviceCIDR = "10.43.0.0/16"

// bootstrap creates the objects every cluster has, when missing.
func bootstrap(ctx context.Context, stores map[schema.GroupVersionResource]*registry.Store) error {
	namespaces := stores[corev1.SchemeGroupVersion.WithResource("namespaces")]
	for _, name := range []string{metav1.NamespaceDefault, metav1.NamespaceSystem, metav1.NamespacePublic, corev1.NamespaceNodeLease} {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{corev1.LabelMetadataName: name}}}
		if err := ensure(ctx, namespaces, "", ns); err != nil {
			return err
		}
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{
			Name:      "kubernetes",
			Namespace: metav1.NamespaceDefault,
			Labels:    map[string]string{"component": "apiserver", "provider": "kubernetes"},
		},
		Spec: corev1.ServiceSpec{
			Type:            corev1.ServiceTypeClusterIP,
			ClusterIP:       kubernetesServiceIP,
			ClusterIPs:      []string{kubernetesServiceIP},
			IPFamilies:      []corev1.IPFamily{corev1.IPv4Protocol},
			SessionAffinity: corev1.ServiceAffinityNone,
			Ports: []corev1.ServicePort{{
				Name: "https", Protocol: corev1.ProtocolTCP, Port: 443, TargetPort: intstr.FromInt32(6443),
			}},
		},
	}
	if err := ensure(ctx, stores[corev1.SchemeGroupVersion.WithResource("services")], metav1.NamespaceDefault, svc); err != nil {
		return err
	}
	// The default ServiceCIDR describes the range services draw from.
	cidr := &networkingv1.ServiceCIDR{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes"},
		Spec:       networkingv1.ServiceCIDRSpec{CIDRs: []string{serviceCIDR}},
	}
	return ensure(ctx, stores[networkingv1.SchemeGroupVersion.WithResource("servicecidrs")], "", cidr)
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
