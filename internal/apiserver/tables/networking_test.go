package tables

import (
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestIngressCells(t *testing.T) {
	rules := func(hosts ...string) []networkingv1.IngressRule {
		var out []networkingv1.IngressRule
		for _, h := range hosts {
			out = append(out, networkingv1.IngressRule{Host: h})
		}
		return out
	}
	runCellCases(t, []cellCase{
		{"tls with address", &networkingv1.Ingress{
			ObjectMeta: om("web"),
			Spec:       networkingv1.IngressSpec{IngressClassName: ptr("nginx"), Rules: rules("a.example.com", "b.example.com"), TLS: []networkingv1.IngressTLS{{Hosts: []string{"a.example.com"}}}},
			Status: networkingv1.IngressStatus{LoadBalancer: networkingv1.IngressLoadBalancerStatus{Ingress: []networkingv1.IngressLoadBalancerIngress{
				{IP: "192.0.2.10"}, {Hostname: "lb.example.com"},
			}}},
		}, []any{"web", "nginx", "a.example.com,b.example.com", "192.0.2.10,lb.example.com", "80, 443", "5m"}},
		{"default backend only", &networkingv1.Ingress{ObjectMeta: om("def")},
			[]any{"def", "<none>", "*", "", "80", "5m"}},
		{"wildcard rule", &networkingv1.Ingress{ObjectMeta: om("any"), Spec: networkingv1.IngressSpec{Rules: rules("")}},
			[]any{"any", "<none>", "*", "", "80", "5m"}},
		{"more hosts", &networkingv1.Ingress{ObjectMeta: om("many"), Spec: networkingv1.IngressSpec{Rules: rules("a", "", "b", "c", "d", "e")}},
			[]any{"many", "<none>", "a,b,c + 3 more...", "", "80", "5m"}},
	})
}

func TestIngressClassCells(t *testing.T) {
	runCellCases(t, []cellCase{
		{"with parameters", &networkingv1.IngressClass{
			ObjectMeta: om("nginx"),
			Spec: networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx", Parameters: &networkingv1.IngressClassParametersReference{
				APIGroup: ptr("k8s.example.com"), Kind: "IngressParameters", Name: "external-lb",
			}},
		}, []any{"nginx", "k8s.io/ingress-nginx", "IngressParameters.k8s.example.com/external-lb", "5m"}},
		{"core parameters", &networkingv1.IngressClass{
			ObjectMeta: om("cm"),
			Spec:       networkingv1.IngressClassSpec{Controller: "example.com/c", Parameters: &networkingv1.IngressClassParametersReference{Kind: "ConfigMap", Name: "p"}},
		}, []any{"cm", "example.com/c", "ConfigMap/p", "5m"}},
		{"none", &networkingv1.IngressClass{ObjectMeta: om("plain"), Spec: networkingv1.IngressClassSpec{Controller: "example.com/c"}},
			[]any{"plain", "example.com/c", "<none>", "5m"}},
	})
}

func TestNetworkPolicyServiceCIDRIPAddressCells(t *testing.T) {
	runCellCases(t, []cellCase{
		{"all pods", &networkingv1.NetworkPolicy{ObjectMeta: om("deny-all")}, []any{"deny-all", "<none>", "5m"}},
		{"selected", &networkingv1.NetworkPolicy{ObjectMeta: om("db"), Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"role": "db"}},
		}}, []any{"db", "role=db", "5m"}},
	})
	runCellCases(t, []cellCase{
		{"dual stack", &networkingv1.ServiceCIDR{ObjectMeta: om("kubernetes"), Spec: networkingv1.ServiceCIDRSpec{CIDRs: []string{"10.96.0.0/16", "fd00:10:96::/112"}}},
			[]any{"kubernetes", "10.96.0.0/16,fd00:10:96::/112", "5m"}},
	})
	runCellCases(t, []cellCase{
		{"service", &networkingv1.IPAddress{ObjectMeta: om("10.96.0.1"), Spec: networkingv1.IPAddressSpec{ParentRef: &networkingv1.ParentReference{
			Resource: "services", Namespace: "default", Name: "kubernetes",
		}}}, []any{"10.96.0.1", "services/default/kubernetes"}},
		{"grouped cluster-scoped", &networkingv1.IPAddress{ObjectMeta: om("10.0.0.9"), Spec: networkingv1.IPAddressSpec{ParentRef: &networkingv1.ParentReference{
			Group: "Gateway.Example.com", Resource: "gateways", Name: "gw",
		}}}, []any{"10.0.0.9", "gateways.gateway.example.com/gw"}},
		{"orphan", &networkingv1.IPAddress{ObjectMeta: om("10.0.0.8")}, []any{"10.0.0.8", "<none>"}},
	})
}
