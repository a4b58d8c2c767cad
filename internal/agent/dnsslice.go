package agent

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
)

// kubeDNSService is the cluster DNS Service the server creates; each
// agent is one of its endpoints.
const kubeDNSService = "kube-dns"

// dnsSliceManager marks the EndpointSlices agents publish for their DNS
// server.
const dnsSliceManager = "tug-agent"

// publishDNSEndpoint creates or updates the EndpointSlice kube-dns-<node>
// in kube-system that makes this node's DNS server (port 53 of its
// address) an endpoint of the kube-dns Service, once the kubelet has
// registered the Node, which owns the slice (so it goes with the node).
// It retries until it succeeds or ctx ends.
func publishDNSEndpoint(ctx context.Context, client kubernetes.Interface, nodeName string, nodeIP netip.Addr) error {
	// The error is ctx's once it ends: the agent is stopping.
	_ = wait.PollUntilContextCancel(ctx, time.Second, true, func(ctx context.Context) (bool, error) {
		err := publishDNSEndpointOnce(ctx, client, nodeName, nodeIP)
		if err != nil {
			klog.FromContext(ctx).V(2).Info("Publishing the node's DNS endpoint failed; retrying", "err", err)
		}
		return err == nil, nil
	})
	return nil
}

func publishDNSEndpointOnce(ctx context.Context, client kubernetes.Interface, nodeName string, nodeIP netip.Addr) error {
	node, err := client.CoreV1().Nodes().Get(ctx, nodeName, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("publish DNS endpoint: %w", err)
	}
	family := discoveryv1.AddressTypeIPv4
	if nodeIP.Is6() {
		family = discoveryv1.AddressTypeIPv6
	}
	udp, tcp := corev1.ProtocolUDP, corev1.ProtocolTCP
	want := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Name:      kubeDNSService + "-" + nodeName,
			Namespace: metav1.NamespaceSystem,
			Labels: map[string]string{
				discoveryv1.LabelServiceName: kubeDNSService,
				discoveryv1.LabelManagedBy:   dnsSliceManager,
			},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID}},
		},
		AddressType: family,
		Endpoints: []discoveryv1.Endpoint{{
			Addresses:  []string{nodeIP.String()},
			NodeName:   ptr.To(nodeName),
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true), Serving: ptr.To(true), Terminating: ptr.To(false)},
		}},
		Ports: []discoveryv1.EndpointPort{
			{Name: ptr.To("dns"), Protocol: &udp, Port: ptr.To[int32](53)},
			{Name: ptr.To("dns-tcp"), Protocol: &tcp, Port: ptr.To[int32](53)},
		},
	}
	slices := client.DiscoveryV1().EndpointSlices(metav1.NamespaceSystem)
	cur, err := slices.Get(ctx, want.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		_, err = slices.Create(ctx, want, metav1.CreateOptions{})
	case err == nil:
		cur.Labels, cur.OwnerReferences = want.Labels, want.OwnerReferences
		cur.AddressType, cur.Endpoints, cur.Ports = want.AddressType, want.Endpoints, want.Ports
		_, err = slices.Update(ctx, cur, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("publish DNS endpoint: %w", err)
	}
	return nil
}
