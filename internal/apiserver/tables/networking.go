package tables

import (
	"fmt"
	"strings"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// networkingPrinters are the printers of networking.k8s.io and of
// EndpointSlices (discovery.k8s.io).
func networkingPrinters() []*printer {
	gv := networkingv1.SchemeGroupVersion
	return []*printer{
		typed(gv.WithKind("Ingress"), ingressColumns, ingressCells),
		typed(gv.WithKind("IngressClass"), ingressClassColumns, ingressClassCells),
		typed(gv.WithKind("NetworkPolicy"), networkPolicyColumns, networkPolicyCells),
		typed(gv.WithKind("ServiceCIDR"), serviceCIDRColumns, serviceCIDRCells),
		typed(gv.WithKind("IPAddress"), ipAddressColumns, ipAddressCells),
		typed(discoveryv1.SchemeGroupVersion.WithKind("EndpointSlice"), endpointSliceColumns, endpointSliceCells),
	}
}

var ingressColumns = columns(
	nameColumn(),
	strCol("Class", networkingv1.IngressSpec{}.SwaggerDoc()["ingressClassName"]),
	strCol("Hosts", "Hosts that incoming requests are matched against before the ingress rule"),
	strCol("Address", "Address is a list containing ingress points for the load-balancer"),
	strCol("Ports", "Ports of TLS configurations that open"),
	ageColumn(),
)

func ingressCells(ing *networkingv1.Ingress, now time.Time) []any {
	class := "<none>"
	if ing.Spec.IngressClassName != nil {
		class = *ing.Spec.IngressClassName
	}
	// Up to three hosts; rules without a host match every host and are
	// not listed, but once three are listed every further rule counts
	// towards the " + N more".
	const maxHosts = 3
	var hosts []string
	more := false
	for _, rule := range ing.Spec.Rules {
		if len(hosts) == maxHosts {
			more = true
			break
		}
		if rule.Host != "" {
			hosts = append(hosts, rule.Host)
		}
	}
	hostCell := "*"
	if len(hosts) > 0 {
		hostCell = strings.Join(hosts, ",")
	}
	if more {
		hostCell = fmt.Sprintf("%s + %d more...", hostCell, len(ing.Spec.Rules)-maxHosts)
	}
	var points []string
	for _, in := range ing.Status.LoadBalancer.Ingress {
		points = append(points, ingressPoint(in.IP, in.Hostname))
	}
	ports := "80"
	if len(ing.Spec.TLS) > 0 {
		ports = "80, 443"
	}
	return []any{
		ing.Name, class, hostCell, strings.Join(sortedSet(points), ","), ports,
		ageSince(ing.CreationTimestamp, now),
	}
}

var ingressClassColumns = columns(
	nameColumn(),
	strCol("Controller", networkingv1.IngressClassSpec{}.SwaggerDoc()["controller"]),
	strCol("Parameters", networkingv1.IngressClassSpec{}.SwaggerDoc()["parameters"]),
	ageColumn(),
)

func ingressClassCells(ic *networkingv1.IngressClass, now time.Time) []any {
	params := "<none>"
	if p := ic.Spec.Parameters; p != nil {
		params = p.Kind
		if p.APIGroup != nil {
			params += "." + *p.APIGroup
		}
		params += "/" + p.Name
	}
	return []any{ic.Name, ic.Spec.Controller, params, ageSince(ic.CreationTimestamp, now)}
}

var networkPolicyColumns = columns(
	nameColumn(),
	strCol("Pod-Selector", networkingv1.NetworkPolicySpec{}.SwaggerDoc()["podSelector"]),
	ageColumn(),
)

func networkPolicyCells(np *networkingv1.NetworkPolicy, now time.Time) []any {
	return []any{np.Name, metav1.FormatLabelSelector(&np.Spec.PodSelector), ageSince(np.CreationTimestamp, now)}
}

var serviceCIDRColumns = columns(
	nameColumn(),
	strCol("CIDRs", networkingv1.ServiceCIDRSpec{}.SwaggerDoc()["cidrs"]),
	ageColumn(),
)

func serviceCIDRCells(s *networkingv1.ServiceCIDR, now time.Time) []any {
	return []any{s.Name, strings.Join(s.Spec.CIDRs, ","), ageSince(s.CreationTimestamp, now)}
}

var ipAddressColumns = columns(
	nameColumn(),
	strCol("ParentRef", networkingv1.IPAddressSpec{}.SwaggerDoc()["parentRef"]),
)

// ipAddressCells names the address's owner as resource.group/namespace/name
// ("services/default/kubernetes").
func ipAddressCells(ip *networkingv1.IPAddress, _ time.Time) []any {
	parent := "<none>"
	if ref := ip.Spec.ParentRef; ref != nil {
		parent = strings.ToLower(schema.GroupResource{Group: ref.Group, Resource: ref.Resource}.String())
		if ref.Namespace != "" {
			parent += "/" + ref.Namespace
		}
		parent += "/" + ref.Name
	}
	return []any{ip.Name, parent}
}
