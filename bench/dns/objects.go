package main

import (
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
)

// domain is the cluster domain the server answers.
const domain = "cluster.local"

// cluster names the objects of the store: Service i is svc-<i> in
// namespace ns-<i mod namespaces>; every HeadlessEvery-th one (i = 0, n,
// 2n…) is headless, its endpoints named web-<k> as a StatefulSet's are.
type cluster struct{ o *Options }

func (c cluster) namespace(i int) string { return fmt.Sprintf("ns-%03d", i%c.o.Namespaces) }
func (c cluster) service(i int) string   { return fmt.Sprintf("svc-%05d", i) }
func (c cluster) headless(i int) bool    { return i%c.o.HeadlessEvery == 0 }

// fqdn is the name of Service i.
func (c cluster) fqdn(i int) string {
	return c.service(i) + "." + c.namespace(i) + ".svc." + domain + "."
}

// clusterIP of Service i, from 10.43.0.11 up.
func (c cluster) clusterIP(i int) netip.Addr {
	n := i + 11
	return netip.AddrFrom4([4]byte{10, 43, byte(n >> 8), byte(n)})
}

// podIP of endpoint k of Service i, in 100.64.0.0/10.
func (c cluster) podIP(i, k int) netip.Addr {
	n := i*c.o.Endpoints + k
	return netip.AddrFrom4([4]byte{100, byte(64 + n>>16), byte(n >> 8), byte(n)})
}

// objects returns the namespaces, Services and one EndpointSlice per
// Service.
func (c cluster) objects() []runtime.Object {
	var objs []runtime.Object
	for n := range c.o.Namespaces {
		objs = append(objs, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: c.namespace(n)}})
	}
	for i := range c.o.Services {
		ns, name := c.namespace(i), c.service(i)
		svc := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP,
				Ports: []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80}}},
		}
		if c.headless(i) {
			svc.Spec.ClusterIP = corev1.ClusterIPNone
		} else {
			svc.Spec.ClusterIP = c.clusterIP(i).String()
		}
		svc.Spec.ClusterIPs = []string{svc.Spec.ClusterIP}
		es := &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: name + "-1", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To[int32](8080)}},
		}
		for k := range c.o.Endpoints {
			ep := discoveryv1.Endpoint{Addresses: []string{c.podIP(i, k).String()},
				Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}
			if c.headless(i) {
				ep.Hostname = ptr.To(fmt.Sprintf("web-%d", k))
			}
			es.Endpoints = append(es.Endpoints, ep)
		}
		objs = append(objs, svc, es)
	}
	return objs
}
