//nolint:staticcheck // SA1019: this controller serves the deprecated Endpoints API
package endpoints

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// MaxAddresses is how many addresses one Endpoints object holds; the rest
// are dropped and the object is marked over capacity.
const MaxAddresses = 1000

// Subsets groups the addresses of the pods selected by svc into subsets
// of pods that share the same resolved ports. Ready pods (or all, with
// publishNotReadyAddresses) are addresses, the others notReadyAddresses.
// truncated is true when more than MaxAddresses were found.
func Subsets(svc *corev1.Service, pods []*corev1.Pod) (subsets []corev1.EndpointSubset, truncated bool) {
	type group struct {
		ports           []corev1.EndpointPort
		ready, notReady []corev1.EndpointAddress
	}
	groups := map[string]*group{}
	for _, pod := range pods {
		if !inEndpoints(svc, pod) {
			continue
		}
		ports, ok := podPorts(svc, pod)
		if !ok {
			continue
		}
		key := portsKey(ports)
		g := groups[key]
		if g == nil {
			g = &group{ports: ports}
			groups[key] = g
		}
		addr := corev1.EndpointAddress{
			IP:        pod.Status.PodIP,
			Hostname:  Hostname(pod, svc),
			TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
		}
		if pod.Spec.NodeName != "" {
			addr.NodeName = &pod.Spec.NodeName
		}
		if svc.Spec.PublishNotReadyAddresses || PodReady(pod) {
			g.ready = append(g.ready, addr)
		} else {
			g.notReady = append(g.notReady, addr)
		}
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	budget := MaxAddresses
	take := func(addrs []corev1.EndpointAddress) []corev1.EndpointAddress {
		slices.SortFunc(addrs, func(a, b corev1.EndpointAddress) int { return cmp.Compare(a.IP, b.IP) })
		if len(addrs) > budget {
			addrs, truncated = addrs[:budget], true
		}
		budget -= len(addrs)
		if len(addrs) == 0 {
			return nil
		}
		return addrs
	}
	// Ready addresses are kept before not-ready ones when truncating.
	for _, k := range keys {
		groups[k].ready = take(groups[k].ready)
	}
	for _, k := range keys {
		g := groups[k]
		g.notReady = take(g.notReady)
		if len(g.ready) == 0 && len(g.notReady) == 0 {
			continue
		}
		subsets = append(subsets, corev1.EndpointSubset{Addresses: g.ready, NotReadyAddresses: g.notReady, Ports: g.ports})
	}
	return subsets, truncated
}

// inEndpoints reports whether pod has an address to list: it has an IP,
// has not finished and is not terminating (unless the service publishes
// not-ready addresses).
func inEndpoints(svc *corev1.Service, pod *corev1.Pod) bool {
	if pod.Status.PodIP == "" || Terminal(pod) {
		return false
	}
	return pod.DeletionTimestamp == nil || svc.Spec.PublishNotReadyAddresses
}

// podPorts resolves every service port on pod. A headless service
// without ports lists bare addresses; ok is false when the pod has none of
// the service's ports.
func podPorts(svc *corev1.Service, pod *corev1.Pod) (ports []corev1.EndpointPort, ok bool) {
	if len(svc.Spec.Ports) == 0 {
		return nil, IsHeadless(svc)
	}
	for i := range svc.Spec.Ports {
		sp := &svc.Spec.Ports[i]
		port, found := PodPort(pod, sp)
		if !found {
			continue
		}
		ports = append(ports, corev1.EndpointPort{Name: sp.Name, Port: port, Protocol: protocolOf(sp.Protocol), AppProtocol: sp.AppProtocol})
	}
	slices.SortFunc(ports, func(a, b corev1.EndpointPort) int { return cmp.Compare(a.Name, b.Name) })
	return ports, len(ports) > 0
}

func portsKey(ports []corev1.EndpointPort) string {
	var b strings.Builder
	for _, p := range ports {
		b.WriteString(p.Name + "/" + string(p.Protocol) + "/" + strconv.Itoa(int(p.Port)) + ",")
	}
	return b.String()
}
