package kubelet

import (
	"context"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
)

// The expectations follow Kubernetes' $(VAR) expansion
// (third_party/forked/golang/expansion): $$ escapes, unknown and
// unterminated references stay as written, values are not expanded again.
func TestExpand(t *testing.T) {
	vars := map[string]string{"A": "alpha", "B": "beta", "REF": "$(B)", "EMPTY": ""}
	tests := []struct{ in, want string }{
		{in: "", want: ""},
		{in: "plain", want: "plain"},
		{in: "$(A)", want: "alpha"},
		{in: "x$(A)y$(B)z", want: "xalphaybetaz"},
		{in: "$(A)$(A)", want: "alphaalpha"},
		{in: "$(EMPTY)|", want: "|"},
		{in: "$(UNKNOWN)", want: "$(UNKNOWN)"},
		{in: "a $(UNKNOWN) $(A)", want: "a $(UNKNOWN) alpha"},
		{in: "$$(A)", want: "$(A)"},
		{in: "$$$(A)", want: "$alpha"},
		{in: "$$$$", want: "$$"},
		{in: "cost: 5$", want: "cost: 5$"},
		{in: "$", want: "$"},
		{in: "$A", want: "$A"},
		{in: "$)", want: "$)"},
		{in: "$(A", want: "$(A"},
		{in: "x $(A", want: "x $(A"},
		{in: "$()", want: "$()"},
		{in: "$(A$(B))", want: "$(A$(B))"},
		{in: "$(REF)", want: "$(B)"},
	}
	for _, tt := range tests {
		if got := expand(tt.in, vars); got != tt.want {
			t.Errorf("expand(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestExpandAll(t *testing.T) {
	vars := map[string]string{"MSG": "hi"}
	if got := expandAll(nil, vars); got != nil {
		t.Errorf("expandAll(nil) = %q, want nil", got)
	}
	got := expandAll([]string{"echo", "$(MSG)", "$$(MSG)"}, vars)
	if diff := cmp.Diff([]string{"echo", "hi", "$(MSG)"}, got); diff != "" {
		t.Errorf("expandAll (-want +got):\n%s", diff)
	}
}

// withServices makes k's service informer hold svcs (the informer is not
// run: its store is the cache the kubelet reads).
func withServices(t *testing.T, k *Kubelet, svcs ...*corev1.Service) {
	t.Helper()
	k.services = cache.NewSharedIndexInformer(&cache.ListWatch{}, &corev1.Service{}, 0, cache.Indexers{})
	for _, s := range svcs {
		if err := k.services.GetStore().Add(s); err != nil {
			t.Fatal(err)
		}
	}
}

func service(namespace, name, clusterIP string, ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec:       corev1.ServiceSpec{ClusterIP: clusterIP, Ports: ports},
	}
}

// The expectations follow the kubelet's getServiceEnvVarMap and
// envvars.FromServices: the pod's namespace's services plus the
// kubernetes service of default, headless ones skipped.
func TestServiceEnv(t *testing.T) {
	kubernetes := service("default", "kubernetes", "10.43.0.1", corev1.ServicePort{Name: "https", Port: 443, Protocol: corev1.ProtocolTCP})
	web := service("ns1", "my-web", "10.43.0.20",
		corev1.ServicePort{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP},
		corev1.ServicePort{Name: "dns-udp", Port: 53, Protocol: corev1.ProtocolUDP})
	k8sVars := map[string]string{
		"KUBERNETES_SERVICE_HOST":       "10.43.0.1",
		"KUBERNETES_SERVICE_PORT":       "443",
		"KUBERNETES_SERVICE_PORT_HTTPS": "443",
		"KUBERNETES_PORT":               "tcp://10.43.0.1:443",
		"KUBERNETES_PORT_443_TCP":       "tcp://10.43.0.1:443",
		"KUBERNETES_PORT_443_TCP_PROTO": "tcp",
		"KUBERNETES_PORT_443_TCP_PORT":  "443",
		"KUBERNETES_PORT_443_TCP_ADDR":  "10.43.0.1",
	}
	webVars := map[string]string{
		"MY_WEB_SERVICE_HOST":         "10.43.0.20",
		"MY_WEB_SERVICE_PORT":         "80",
		"MY_WEB_SERVICE_PORT_HTTP":    "80",
		"MY_WEB_SERVICE_PORT_DNS_UDP": "53",
		"MY_WEB_PORT":                 "tcp://10.43.0.20:80",
		"MY_WEB_PORT_80_TCP":          "tcp://10.43.0.20:80",
		"MY_WEB_PORT_80_TCP_PROTO":    "tcp",
		"MY_WEB_PORT_80_TCP_PORT":     "80",
		"MY_WEB_PORT_80_TCP_ADDR":     "10.43.0.20",
		"MY_WEB_PORT_53_UDP":          "udp://10.43.0.20:53",
		"MY_WEB_PORT_53_UDP_PROTO":    "udp",
		"MY_WEB_PORT_53_UDP_PORT":     "53",
		"MY_WEB_PORT_53_UDP_ADDR":     "10.43.0.20",
	}
	merge := func(ms ...map[string]string) map[string]string {
		out := map[string]string{}
		for _, m := range ms {
			for k, v := range m {
				out[k] = v
			}
		}
		return out
	}
	tests := []struct {
		name      string
		namespace string
		services  []*corev1.Service
		want      map[string]string
	}{
		{name: "no services", namespace: "ns1", want: map[string]string{}},
		{name: "kubernetes service for every namespace", namespace: "ns1",
			services: []*corev1.Service{kubernetes}, want: k8sVars},
		{name: "own namespace's services", namespace: "ns1",
			services: []*corev1.Service{kubernetes, web}, want: merge(k8sVars, webVars)},
		{name: "other namespaces' services left out", namespace: "ns2",
			services: []*corev1.Service{kubernetes, web, service("default", "other", "10.43.0.9", corev1.ServicePort{Port: 1})},
			want:     k8sVars},
		{name: "default namespace gets all of default", namespace: "default",
			services: []*corev1.Service{kubernetes, service("default", "db", "10.43.0.30", corev1.ServicePort{Port: 5432})},
			want: merge(k8sVars, map[string]string{
				"DB_SERVICE_HOST":        "10.43.0.30",
				"DB_SERVICE_PORT":        "5432",
				"DB_PORT":                "tcp://10.43.0.30:5432",
				"DB_PORT_5432_TCP":       "tcp://10.43.0.30:5432",
				"DB_PORT_5432_TCP_PROTO": "tcp",
				"DB_PORT_5432_TCP_PORT":  "5432",
				"DB_PORT_5432_TCP_ADDR":  "10.43.0.30",
			})},
		{name: "headless and external name services skipped", namespace: "ns1",
			services: []*corev1.Service{
				service("ns1", "headless", corev1.ClusterIPNone, corev1.ServicePort{Port: 80}),
				service("ns1", "external", "", corev1.ServicePort{Port: 80}),
			},
			want: map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newTestKubelet()
			withServices(t, k, tt.services...)
			got := map[string]string{}
			kvs := k.serviceEnv(tt.namespace, true)
			for _, kv := range kvs {
				got[kv[0]] = kv[1]
			}
			if len(got) != len(kvs) {
				t.Errorf("serviceEnv repeats names: %q", kvs)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("serviceEnv (-want +got):\n%s", diff)
			}
		})
	}
}

// containerEnv without ConfigMap or Secret references needs no client.
// The kubelet resolves $(VAR) in env values against service variables,
// envFrom and the entries before it.
func TestContainerEnv(t *testing.T) {
	kubernetes := service("default", "kubernetes", "10.43.0.1", corev1.ServicePort{Name: "https", Port: 443})
	web := service("ns1", "web", "10.43.0.20", corev1.ServicePort{Port: 80})
	env := []corev1.EnvVar{
		{Name: "A", Value: "1"},
		{Name: "B", Value: "$(A)-$(LATER)-$(KUBERNETES_SERVICE_HOST)"},
		{Name: "LATER", Value: "x"},
		{Name: "A", Value: "2"}, // a repeated name: the last one wins
		{Name: "POD_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
		{Name: "HOST_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.hostIP"}}},
		{Name: "NS", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
	}
	own := map[string]string{
		"A": "2", "B": "1-$(LATER)-10.43.0.1", "LATER": "x", "POD_IP": "10.42.0.7", "HOST_IP": "192.168.1.10", "NS": "ns1",
	}
	kubernetesVars := map[string]string{
		"KUBERNETES_SERVICE_HOST": "10.43.0.1", "KUBERNETES_SERVICE_PORT": "443", "KUBERNETES_SERVICE_PORT_HTTPS": "443",
		"KUBERNETES_PORT": "tcp://10.43.0.1:443", "KUBERNETES_PORT_443_TCP": "tcp://10.43.0.1:443",
		"KUBERNETES_PORT_443_TCP_PROTO": "tcp", "KUBERNETES_PORT_443_TCP_PORT": "443", "KUBERNETES_PORT_443_TCP_ADDR": "10.43.0.1",
	}
	webVars := map[string]string{
		"WEB_SERVICE_HOST": "10.43.0.20", "WEB_SERVICE_PORT": "80",
		"WEB_PORT": "tcp://10.43.0.20:80", "WEB_PORT_80_TCP": "tcp://10.43.0.20:80",
		"WEB_PORT_80_TCP_PROTO": "tcp", "WEB_PORT_80_TCP_PORT": "80", "WEB_PORT_80_TCP_ADDR": "10.43.0.20",
	}
	tests := []struct {
		name  string
		links *bool
		want  []map[string]string // service variables besides own
	}{
		{name: "service links by default", want: []map[string]string{kubernetesVars, webVars}},
		{name: "service links on", links: ptr.To(true), want: []map[string]string{kubernetesVars, webVars}},
		{name: "service links off: only the kubernetes service", links: ptr.To(false), want: []map[string]string{kubernetesVars}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newTestKubelet()
			k.cfg.NodeIPs = []netip.Addr{netip.MustParseAddr("192.168.1.10")}
			withServices(t, k, kubernetes, web)
			pod := testPod(corev1.RestartPolicyAlways, nil, "a")
			pod.Spec.EnableServiceLinks = tt.links
			pod.Spec.Containers[0].Env = env
			kvs, err := k.containerEnv(context.Background(), pod, &pod.Spec.Containers[0], []string{"10.42.0.7"})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, kv := range kvs {
				if _, dup := got[kv.Key]; dup {
					t.Errorf("variable %s set twice", kv.Key)
				}
				got[kv.Key] = string(kv.Value)
			}
			want := map[string]string{}
			for _, m := range append(tt.want, own) {
				for name, value := range m {
					want[name] = value
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("containerEnv (-want +got):\n%s", diff)
			}
		})
	}
}

func TestServiceEnvLinksAndOwnKubernetes(t *testing.T) {
	k := newTestKubelet()
	mk := func(ns, name, ip string) *corev1.Service {
		return &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec:       corev1.ServiceSpec{ClusterIP: ip, Ports: []corev1.ServicePort{{Port: 443, Protocol: corev1.ProtocolTCP}}},
		}
	}
	withServices(t, k,
		mk("default", "kubernetes", "10.43.0.1"),
		mk("default", "kubernetes-dashboard", "10.43.0.5"),
		mk("ns1", "kubernetes", "10.43.0.9"),
		mk("v6", "web", "fd00::10"))
	env := func(ns string, links bool) map[string]string {
		got := map[string]string{}
		for _, kv := range k.serviceEnv(ns, links) {
			got[kv[0]] = kv[1]
		}
		return got
	}
	// Links off: only default/kubernetes, not other KUBERNETES_* services.
	if got := env("default", false); got["KUBERNETES_SERVICE_HOST"] != "10.43.0.1" || got["KUBERNETES_DASHBOARD_SERVICE_HOST"] != "" {
		t.Errorf("links off in default: %v", got)
	}
	// A namespace's own kubernetes service wins over default's.
	if got := env("ns1", true); got["KUBERNETES_SERVICE_HOST"] != "10.43.0.9" {
		t.Errorf("ns1's own kubernetes service: %v", got)
	}
	// IPv6 addresses are bracketed in URLs.
	if got := env("v6", true); got["WEB_PORT"] != "tcp://[fd00::10]:443" || got["WEB_PORT_443_TCP"] != "tcp://[fd00::10]:443" {
		t.Errorf("IPv6 service: %v", got)
	}
}

func TestExpandUnterminatedReference(t *testing.T) {
	if got := expand("$(a $$", map[string]string{"a": "x"}); got != "$(a $" {
		t.Errorf("expand(%q) = %q, want %q", "$(a $$", got, "$(a $")
	}
}
