package proxy

import (
	"net/netip"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/tugcluster/tug/internal/proxy/nft"
)

// defaultAffinityTimeout is sessionAffinityConfig.clientIP.timeoutSeconds
// when unset: the API's default, three hours.
const defaultAffinityTimeout = 10800 * time.Second

// serviceFromAPI returns what the rules need of svc and the EndpointSlices
// of it, or nil for a Service that gets no rules (headless, ExternalName,
// no cluster IP).
func serviceFromAPI(svc *corev1.Service, eps []*discoveryv1.EndpointSlice) *nft.Service {
	spec := &svc.Spec
	if spec.Type == corev1.ServiceTypeExternalName || spec.ClusterIP == corev1.ClusterIPNone || spec.ClusterIP == "" {
		return nil
	}
	out := &nft.Service{Namespace: svc.Namespace, Name: svc.Name}
	clusterIPs := spec.ClusterIPs
	if len(clusterIPs) == 0 {
		clusterIPs = []string{spec.ClusterIP}
	}
	out.ClusterIPs = parseAddrs(clusterIPs)
	out.ExternalIPs = parseAddrs(spec.ExternalIPs)
	if spec.Type == corev1.ServiceTypeLoadBalancer {
		for _, ing := range svc.Status.LoadBalancer.Ingress {
			// An ingress in Proxy mode means the load balancer delivers to
			// the node, not to the address: nothing to DNAT.
			if ing.IPMode != nil && *ing.IPMode == corev1.LoadBalancerIPModeProxy {
				continue
			}
			out.LoadBalancerIPs = append(out.LoadBalancerIPs, parseAddrs([]string{ing.IP})...)
		}
	}
	if spec.SessionAffinity == corev1.ServiceAffinityClientIP {
		out.AffinityTimeout = defaultAffinityTimeout
		if c := spec.SessionAffinityConfig; c != nil && c.ClientIP != nil && c.ClientIP.TimeoutSeconds != nil {
			out.AffinityTimeout = time.Duration(*c.ClientIP.TimeoutSeconds) * time.Second
		}
	}
	out.InternalLocal = spec.InternalTrafficPolicy != nil && *spec.InternalTrafficPolicy == corev1.ServiceInternalTrafficPolicyLocal
	out.ExternalLocal = spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal
	hasNodePorts := spec.Type == corev1.ServiceTypeNodePort || spec.Type == corev1.ServiceTypeLoadBalancer

	// Slices in name order, so that the same objects give an equal
	// Service whatever order the cache returns them in.
	eps = slices.Clone(eps)
	slices.SortFunc(eps, func(a, b *discoveryv1.EndpointSlice) int { return strings.Compare(a.Name, b.Name) })
	for _, sp := range spec.Ports {
		p := nft.Port{Name: sp.Name, Protocol: protocolOrTCP(sp.Protocol), Port: uint16(sp.Port)}
		if hasNodePorts {
			p.NodePort = uint16(sp.NodePort)
		}
		for _, slice := range eps {
			p.Endpoints = appendEndpoints(p.Endpoints, slice, p.Name, p.Protocol)
		}
		out.Ports = append(out.Ports, p)
	}
	return out
}

// appendEndpoints appends the endpoints slice lists for the Service port
// named name: each slice resolves the port's target (a named container
// port may have another number on other pods) to its own number.
func appendEndpoints(out []nft.Endpoint, slice *discoveryv1.EndpointSlice, name string, proto corev1.Protocol) []nft.Endpoint {
	if slice.AddressType != discoveryv1.AddressTypeIPv4 && slice.AddressType != discoveryv1.AddressTypeIPv6 {
		return out
	}
	var port int32
	found := false
	for _, sp := range slice.Ports {
		spName := ""
		if sp.Name != nil {
			spName = *sp.Name
		}
		var spProto corev1.Protocol
		if sp.Protocol != nil {
			spProto = *sp.Protocol
		}
		if spName == name && protocolOrTCP(spProto) == proto && sp.Port != nil {
			port, found = *sp.Port, true
			break
		}
	}
	if !found || port <= 0 || port > 65535 {
		return out
	}
	for _, ep := range slice.Endpoints {
		if len(ep.Addresses) == 0 {
			continue
		}
		// Consumers use the first address; the others are informational.
		addr, err := netip.ParseAddr(ep.Addresses[0])
		if err != nil {
			continue
		}
		// Unset conditions mean: ready (unknown is taken as ready),
		// serving as ready says, not terminating.
		ready := ep.Conditions.Ready == nil || *ep.Conditions.Ready
		serving := ready
		if ep.Conditions.Serving != nil {
			serving = *ep.Conditions.Serving
		}
		terminating := ep.Conditions.Terminating != nil && *ep.Conditions.Terminating
		e := nft.Endpoint{Addr: addr.Unmap(), Port: uint16(port), Ready: ready, Serving: serving, Terminating: terminating}
		if ep.NodeName != nil {
			e.NodeName = *ep.NodeName
		}
		out = append(out, e)
	}
	return out
}

func protocolOrTCP(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return p
}

// parseAddrs parses addresses, skipping what does not parse (the API
// validates them; an old object may not be).
func parseAddrs(in []string) []netip.Addr {
	var out []netip.Addr
	for _, s := range in {
		if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, a.Unmap())
		}
	}
	return out
}

// slimService keeps what the rules need of a Service in the cache.
func slimService(obj any) (any, error) {
	svc, ok := obj.(*corev1.Service)
	if !ok {
		return obj, nil
	}
	slim := &corev1.Service{}
	slim.Name, slim.Namespace, slim.ResourceVersion, slim.UID = svc.Name, svc.Namespace, svc.ResourceVersion, svc.UID
	s := &svc.Spec
	slim.Spec = corev1.ServiceSpec{
		Type: s.Type, ClusterIP: s.ClusterIP, ClusterIPs: s.ClusterIPs, Ports: s.Ports, ExternalIPs: s.ExternalIPs,
		SessionAffinity: s.SessionAffinity, SessionAffinityConfig: s.SessionAffinityConfig,
		ExternalTrafficPolicy: s.ExternalTrafficPolicy, InternalTrafficPolicy: s.InternalTrafficPolicy,
	}
	slim.Status.LoadBalancer = svc.Status.LoadBalancer
	return slim, nil
}

// slimSlice keeps what the rules need of an EndpointSlice in the cache.
func slimSlice(obj any) (any, error) {
	s, ok := obj.(*discoveryv1.EndpointSlice)
	if !ok {
		return obj, nil
	}
	slim := &discoveryv1.EndpointSlice{AddressType: s.AddressType, Ports: s.Ports}
	slim.Name, slim.Namespace, slim.ResourceVersion, slim.UID = s.Name, s.Namespace, s.ResourceVersion, s.UID
	if name, ok := s.Labels[discoveryv1.LabelServiceName]; ok {
		slim.Labels = map[string]string{discoveryv1.LabelServiceName: name}
	}
	slim.Endpoints = make([]discoveryv1.Endpoint, len(s.Endpoints))
	for i, ep := range s.Endpoints {
		slim.Endpoints[i] = discoveryv1.Endpoint{Addresses: ep.Addresses, Conditions: ep.Conditions, NodeName: ep.NodeName}
	}
	return slim, nil
}
