package endpointslice

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/controllers/endpoints"
)

// MaxEndpointsPerSlice is how many endpoints one slice holds.
const MaxEndpointsPerSlice = 100

// PortSet holds the endpoints of the pods that resolve the service's ports
// to the same numbers; each set lives in its own slices.
type PortSet struct {
	ports     []discoveryv1.EndpointPort
	endpoints []discoveryv1.Endpoint
}

// Desired returns the endpoints of the pods svc selects, grouped by their
// resolved ports and keyed by portsKey. zones maps node names to their
// topology zone.
func Desired(svc *corev1.Service, pods []*corev1.Pod, zones map[string]string) map[string]*PortSet {
	out := map[string]*PortSet{}
	for _, pod := range pods {
		ip := ipv4Of(pod)
		if ip == "" || endpoints.Terminal(pod) {
			continue
		}
		ports, ok := slicePorts(svc, pod)
		if !ok {
			continue
		}
		key := portsKey(ports)
		set := out[key]
		if set == nil {
			set = &PortSet{ports: ports}
			out[key] = set
		}
		set.endpoints = append(set.endpoints, endpointOf(svc, pod, ip, zones))
	}
	for _, set := range out {
		slices.SortFunc(set.endpoints, func(a, b discoveryv1.Endpoint) int { return cmp.Compare(a.Addresses[0], b.Addresses[0]) })
	}
	return out
}

// endpointOf describes pod as an endpoint: a terminating pod is listed
// with ready false, serving as its readiness says, and terminating true.
func endpointOf(svc *corev1.Service, pod *corev1.Pod, ip string, zones map[string]string) discoveryv1.Endpoint {
	ready := endpoints.PodReady(pod)
	terminating := pod.DeletionTimestamp != nil
	ep := discoveryv1.Endpoint{
		Addresses: []string{ip},
		Conditions: discoveryv1.EndpointConditions{
			Ready:       ptr.To(svc.Spec.PublishNotReadyAddresses || (ready && !terminating)),
			Serving:     ptr.To(ready),
			Terminating: ptr.To(terminating),
		},
		TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
	}
	if h := endpoints.Hostname(pod, svc); h != "" {
		ep.Hostname = &h
	}
	if node := pod.Spec.NodeName; node != "" {
		ep.NodeName = &node
		if zone, ok := zones[node]; ok && zone != "" {
			ep.Zone = &zone
		}
	}
	return ep
}

// ipv4Of is the pod's IPv4 address, the only family this controller
// publishes.
func ipv4Of(pod *corev1.Pod) string {
	candidates := []string{pod.Status.PodIP}
	for _, ip := range pod.Status.PodIPs {
		candidates = append(candidates, ip.IP)
	}
	for _, s := range candidates {
		if addr, err := netip.ParseAddr(s); err == nil && addr.Is4() {
			return s
		}
	}
	return ""
}

// slicePorts resolves the service's ports on pod; ok is false when it has
// none of them (a headless service without ports lists bare addresses).
func slicePorts(svc *corev1.Service, pod *corev1.Pod) (ports []discoveryv1.EndpointPort, ok bool) {
	if len(svc.Spec.Ports) == 0 {
		return nil, endpoints.IsHeadless(svc)
	}
	for i := range svc.Spec.Ports {
		sp := &svc.Spec.Ports[i]
		port, found := endpoints.PodPort(pod, sp)
		if !found {
			continue
		}
		proto := sp.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		ports = append(ports, discoveryv1.EndpointPort{Name: ptr.To(sp.Name), Port: ptr.To(port), Protocol: ptr.To(proto), AppProtocol: sp.AppProtocol})
	}
	slices.SortFunc(ports, func(a, b discoveryv1.EndpointPort) int { return cmp.Compare(*a.Name, *b.Name) })
	return ports, len(ports) > 0
}

func portsKey(ports []discoveryv1.EndpointPort) string {
	var b strings.Builder
	for _, p := range ports {
		b.WriteString(ptr.Deref(p.Name, "") + "/" + string(ptr.Deref(p.Protocol, "")) + "/" + strconv.Itoa(int(ptr.Deref(p.Port, 0))) + ",")
	}
	return b.String()
}
