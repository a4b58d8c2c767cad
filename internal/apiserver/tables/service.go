package tables

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"
)

var serviceColumns = columns(
	nameColumn(),
	strCol("Type", corev1.ServiceSpec{}.SwaggerDoc()["type"]),
	strCol("Cluster-IP", corev1.ServiceSpec{}.SwaggerDoc()["clusterIP"]),
	strCol("External-IP", corev1.ServiceSpec{}.SwaggerDoc()["externalIPs"]),
	strCol("Port(s)", corev1.ServiceSpec{}.SwaggerDoc()["ports"]),
	ageColumn(),
	wide(strCol("Selector", corev1.ServiceSpec{}.SwaggerDoc()["selector"])),
)

func serviceCells(svc *corev1.Service, now time.Time) []any {
	ports := make([]string, 0, len(svc.Spec.Ports))
	for _, p := range svc.Spec.Ports {
		if p.NodePort > 0 {
			ports = append(ports, fmt.Sprintf("%d:%d/%s", p.Port, p.NodePort, p.Protocol))
		} else {
			ports = append(ports, fmt.Sprintf("%d/%s", p.Port, p.Protocol))
		}
	}
	return []any{
		svc.Name,
		string(svc.Spec.Type),
		orNone(svc.Spec.ClusterIP),
		serviceExternalIP(svc),
		orNone(strings.Join(ports, ",")),
		ageSince(svc.CreationTimestamp, now),
		labels.FormatLabels(svc.Spec.Selector),
	}
}

// serviceExternalIP is the EXTERNAL-IP cell: the external IPs; for a load
// balancer also its ingress points ("<pending>" while it has none); for an
// ExternalName service the name.
func serviceExternalIP(svc *corev1.Service) string {
	switch svc.Spec.Type {
	case corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort:
		return orNone(strings.Join(svc.Spec.ExternalIPs, ","))
	case corev1.ServiceTypeLoadBalancer:
		var points []string
		for _, in := range svc.Status.LoadBalancer.Ingress {
			points = append(points, ingressPoint(in.IP, in.Hostname))
		}
		all := append(sortedSet(points), svc.Spec.ExternalIPs...)
		if len(all) == 0 {
			return "<pending>"
		}
		return strings.Join(all, ",")
	case corev1.ServiceTypeExternalName:
		return svc.Spec.ExternalName
	default:
		return "<unknown>"
	}
}

// ingressPoint names a load balancer ingress point by its IP, else its
// hostname.
func ingressPoint(ip, hostname string) string {
	if ip != "" {
		return ip
	}
	return hostname
}

// sortedSet returns the distinct non-empty strings of list, sorted.
func sortedSet(list []string) []string {
	out := make([]string, 0, len(list))
	for _, s := range list {
		if s != "" {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

var endpointsColumns = columns(
	nameColumn(),
	strCol("Endpoints", corev1.Endpoints{}.SwaggerDoc()["subsets"]), //nolint:staticcheck // SA1019: served as upstream does
	ageColumn(),
)

// endpointsCells lists up to three ready addresses, each with each port
// of its subset ("10.0.0.1:80,10.0.0.2:80 + 3 more...").
func endpointsCells(ep *corev1.Endpoints, now time.Time) []any { //nolint:staticcheck // SA1019: served as upstream does
	cell := "<none>"
	if len(ep.Subsets) > 0 {
		var all []string
		for _, ss := range ep.Subsets {
			if len(ss.Ports) == 0 {
				for _, a := range ss.Addresses {
					all = append(all, a.IP)
				}
				continue
			}
			for _, p := range ss.Ports {
				for _, a := range ss.Addresses {
					all = append(all, net.JoinHostPort(a.IP, strconv.Itoa(int(p.Port))))
				}
			}
		}
		cell = moreList(all, 3, ",")
	}
	return []any{ep.Name, cell, ageSince(ep.CreationTimestamp, now)}
}

var endpointSliceColumns = columns(
	nameColumn(),
	strCol("AddressType", discoveryv1.EndpointSlice{}.SwaggerDoc()["addressType"]),
	strCol("Ports", discoveryv1.EndpointSlice{}.SwaggerDoc()["ports"]),
	strCol("Endpoints", discoveryv1.EndpointSlice{}.SwaggerDoc()["endpoints"]),
	ageColumn(),
)

func endpointSliceCells(s *discoveryv1.EndpointSlice, now time.Time) []any {
	ports := make([]string, 0, len(s.Ports))
	for _, p := range s.Ports {
		switch {
		case p.Port != nil:
			ports = append(ports, strconv.Itoa(int(*p.Port)))
		case p.Name != nil && *p.Name != "":
			ports = append(ports, *p.Name)
		default:
			ports = append(ports, "*")
		}
	}
	var addresses []string
	for _, e := range s.Endpoints {
		addresses = append(addresses, e.Addresses...)
	}
	return []any{
		s.Name,
		string(s.AddressType),
		orUnsetString(moreList(ports, 3, ",")),
		orUnsetString(moreList(addresses, 3, ",")),
		ageSince(s.CreationTimestamp, now),
	}
}

// orUnsetString returns s, or "<unset>" if it is empty.
func orUnsetString(s string) string {
	if s == "" {
		return "<unset>"
	}
	return s
}
