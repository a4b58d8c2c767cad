package node

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/tugcluster/tug/internal/testutil"
	"github.com/tugcluster/tug/internal/testutil/nodetest"
)

// TestServices runs two real nodes with the service proxy and cluster
// DNS: ClusterIP, NodePort, session affinity, no-endpoint rejects,
// readiness, headless and StatefulSet names, SRV, and the frontend →
// backend example.
func TestServices(t *testing.T) {
	c := nodetest.StartCluster(t, 2)
	ctx := context.Background()
	web0 := httpdPod("web-0")
	web0.Labels = map[string]string{"app": "web"}
	web1 := httpdPod("web-1")
	web1.Labels = map[string]string{"app": "web"}
	create(t, c.Client, on(web0, "node-0"))
	create(t, c.Client, on(web1, "node-1"))
	client := create(t, c.Client, on(busybox("client", "sleep 3600"), "node-1"))
	for _, p := range []string{"web-0", "web-1", "client"} {
		waitPod(t, c.Client, "default", p, 60*time.Second, "running", running)
	}
	web := createService(t, c, "web", corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Selector: map[string]string{"app": "web"},
		Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}}})
	sticky := createService(t, c, "web-sticky", corev1.ServiceSpec{Selector: map[string]string{"app": "web"},
		SessionAffinity: corev1.ServiceAffinityClientIP, Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}})
	createService(t, c, "empty", corev1.ServiceSpec{Selector: map[string]string{"app": "nobody"}, Ports: []corev1.ServicePort{{Port: 80}}})
	createService(t, c, "web-headless", corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Selector: map[string]string{"app": "web"},
		Ports: []corev1.ServicePort{{Name: "http", Port: 8080}}})
	waitEndpoints(t, c, "web", 2)
	waitEndpoints(t, c, "web-sticky", 2)
	waitEndpoints(t, c, "web-headless", 2)

	exec := func(t *testing.T, script string) string {
		t.Helper()
		// Standard output alone: kubectl 1.33's websocket client may log
		// to standard error ("Unknown stream id 1") while it works.
		out, err := c.RunKubectlStdout(t, testutil.Kubectl(t, "1.33"), "", "exec", client.Name, "--", "sh", "-c", script)
		if err != nil {
			t.Fatalf("exec %q: %v\n%s", script, err, out)
		}
		return out
	}
	// get fetches url n times from the client pod.
	get := func(t *testing.T, url string, n int) []string {
		t.Helper()
		out := exec(t, fmt.Sprintf("for i in $(seq %d); do timeout 5 wget -q -O - %s; done", n, url))
		return strings.Split(strings.TrimSpace(out), "\n")
	}

	t.Run("ClusterIPBalancesAcrossNodes", func(t *testing.T) {
		got := get(t, "http://"+web.Spec.ClusterIP+"/", 20)
		if !slices.Contains(got, "hello from web-0") || !slices.Contains(got, "hello from web-1") {
			t.Errorf("20 requests to the ClusterIP reached %q; want both backends", got)
		}
	})
	t.Run("ClusterIPFromTheHostNetwork", func(t *testing.T) {
		hostClient := busybox("host-client", "sleep 3600")
		hostClient.Spec.HostNetwork = true
		create(t, c.Client, on(hostClient, "node-0"))
		waitPod(t, c.Client, "default", hostClient.Name, 60*time.Second, "running", running)
		out, err := c.RunKubectlStdout(t, testutil.Kubectl(t, "1.33"), "", "exec", hostClient.Name, "--",
			"timeout", "5", "wget", "-q", "-O", "-", "http://"+web.Spec.ClusterIP+"/")
		if err != nil || !strings.HasPrefix(out, "hello from web-") {
			t.Errorf("host-network pod → ClusterIP: %q, %v", out, err)
		}
	})
	t.Run("ServiceByDNSName", func(t *testing.T) {
		for _, name := range []string{"web", "web.default", "web.default.svc.cluster.local"} {
			if got := get(t, "http://"+name+"/", 1); !strings.HasPrefix(got[0], "hello from web-") {
				t.Errorf("http://%s/ = %q", name, got)
			}
		}
		if out := exec(t, "cat /etc/resolv.conf"); !strings.Contains(out, "nameserver 10.43.0.10") ||
			!strings.Contains(out, "search default.svc.cluster.local svc.cluster.local cluster.local") || !strings.Contains(out, "ndots:5") {
			t.Errorf("pod resolv.conf:\n%s", out)
		}
	})
	t.Run("NodePortFromTheHost", func(t *testing.T) {
		port := web.Spec.Ports[0].NodePort
		for _, node := range c.Nodes {
			body := httpGet(t, fmt.Sprintf("http://%s:%d/", node.IP, port))
			if !strings.HasPrefix(body, "hello from web-") {
				t.Errorf("NodePort %d on %s: %q", port, node.Name, body)
			}
		}
	})
	t.Run("SessionAffinity", func(t *testing.T) {
		got := slices.Compact(get(t, "http://"+sticky.Spec.ClusterIP+"/", 10))
		if len(got) != 1 {
			t.Errorf("ClientIP affinity: 10 requests reached %q, want one backend", got)
		}
	})
	t.Run("NoEndpointsRejected", func(t *testing.T) {
		out := exec(t, "timeout 5 wget -q -O - http://empty/ 2>&1; echo rc=$?")
		if !strings.Contains(out, "refused") {
			t.Errorf("request to a Service without endpoints: %q; want connection refused at once", out)
		}
	})
	t.Run("DNSRecords", func(t *testing.T) {
		server := net.JoinHostPort(c.Nodes[0].IP, "53")
		a := query(t, server, "web.default.svc.cluster.local.", dns.TypeA)
		if len(a.Answer) != 1 || a.Answer[0].(*dns.A).A.String() != web.Spec.ClusterIP {
			t.Errorf("A web = %v, want %s", a.Answer, web.Spec.ClusterIP)
		}
		h := query(t, server, "web-headless.default.svc.cluster.local.", dns.TypeA)
		if len(h.Answer) != 2 {
			t.Errorf("A web-headless = %v, want both pod IPs", h.Answer)
		}
		srv := query(t, server, "_http._tcp.web.default.svc.cluster.local.", dns.TypeSRV)
		if len(srv.Answer) != 1 || srv.Answer[0].(*dns.SRV).Port != 80 {
			t.Errorf("SRV _http._tcp.web = %v, want port 80", srv.Answer)
		}
		nx := query(t, server, "nothing.default.svc.cluster.local.", dns.TypeA)
		if nx.Rcode != dns.RcodeNameError {
			t.Errorf("A nothing: rcode %s, want NXDOMAIN", dns.RcodeToString[nx.Rcode])
		}
		nodata := query(t, server, "web.default.svc.cluster.local.", dns.TypeAAAA)
		if nodata.Rcode != dns.RcodeSuccess || len(nodata.Answer) != 0 {
			t.Errorf("AAAA web: rcode %s answers %v, want NOERROR with no data", dns.RcodeToString[nodata.Rcode], nodata.Answer)
		}
	})
	t.Run("StatefulSetPodNames", func(t *testing.T) {
		createService(t, c, "db", corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Selector: map[string]string{"app": "db"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 8080}}})
		sts := &appsv1.StatefulSet{
			ObjectMeta: metav1.ObjectMeta{Name: "db"},
			Spec: appsv1.StatefulSetSpec{
				ServiceName: "db", Replicas: new(int32(1)),
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "db"}}, Spec: httpdPod("db").Spec},
			},
		}
		if _, err := c.Client.AppsV1().StatefulSets("default").Create(ctx, sts, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Client.AppsV1().StatefulSets("default").Delete(ctx, "db", metav1.DeleteOptions{}) })
		pod := waitPod(t, c.Client, "default", "db-0", 90*time.Second, "running", running)
		waitEndpoints(t, c, "db", 1)
		got := get(t, "http://db-0.db.default.svc.cluster.local:8080/", 1)
		if got[0] != "hello from db" {
			t.Errorf("db-0.db by name: %q", got)
		}
		a := query(t, net.JoinHostPort(c.Nodes[0].IP, "53"), "db-0.db.default.svc.cluster.local.", dns.TypeA)
		if len(a.Answer) != 1 || a.Answer[0].(*dns.A).A.String() != pod.Status.PodIP {
			t.Errorf("A db-0.db = %v, want %s", a.Answer, pod.Status.PodIP)
		}
	})
	t.Run("UnreadyEndpointLeaves", func(t *testing.T) {
		mk := func(name, node string, probe bool) {
			p := httpdPod(name)
			p.Labels = map[string]string{"app": "flaky"}
			if probe {
				p.Spec.Containers[0].Command = []string{"sh", "-c", "touch /tmp/ready; mkdir -p /www && echo hello from " + name + " > /www/index.html && httpd -f -p 8080 -h /www"}
				p.Spec.Containers[0].ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"test", "-e", "/tmp/ready"}}}, PeriodSeconds: 1}
			}
			create(t, c.Client, on(p, node))
			waitPod(t, c.Client, "default", name, 60*time.Second, "running", running)
		}
		mk("flaky-a", "node-0", false)
		mk("flaky-b", "node-1", true)
		flaky := createService(t, c, "flaky", corev1.ServiceSpec{Selector: map[string]string{"app": "flaky"}, Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}})
		waitEndpoints(t, c, "flaky", 2)
		if _, err := c.RunKubectl(t, testutil.Kubectl(t, "1.33"), "", "exec", "flaky-b", "--", "rm", "/tmp/ready"); err != nil {
			t.Fatal(err)
		}
		waitEndpoints(t, c, "flaky", 1)
		if got := slices.Compact(get(t, "http://"+flaky.Spec.ClusterIP+"/", 10)); len(got) != 1 || got[0] != "hello from flaky-a" {
			t.Errorf("after flaky-b went unready, requests reached %q; want only flaky-a", got)
		}
	})
	t.Run("FrontendToBackend", func(t *testing.T) {
		front := &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "frontend"},
			Spec: appsv1.DeploymentSpec{
				Replicas: new(int32(1)),
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "frontend"}},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "frontend"}},
					Spec: busybox("frontend", "while true; do wget -q -O - http://web/ && echo; sleep 1; done").Spec},
			},
		}
		if _, err := c.Client.AppsV1().Deployments("default").Create(ctx, front, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Client.AppsV1().Deployments("default").Delete(ctx, "frontend", metav1.DeleteOptions{}) })
		deadline := time.Now().Add(90 * time.Second)
		for {
			out, err := c.RunKubectl(t, testutil.Kubectl(t, "1.33"), "", "logs", "deployment/frontend")
			if err == nil && strings.Contains(out, "hello from web-") {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("frontend never reached the backend by name: %q, %v", out, err)
			}
			time.Sleep(time.Second)
		}
	})
}

// createService creates a Service in default and removes it at the end.
func createService(t testing.TB, c *nodetest.Cluster, name string, spec corev1.ServiceSpec) *corev1.Service {
	t.Helper()
	svc, err := c.Client.CoreV1().Services("default").Create(context.Background(),
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Client.CoreV1().Services("default").Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	return svc
}

// waitEndpoints waits until the Service's EndpointSlices hold n ready
// endpoints.
func waitEndpoints(t testing.TB, c *nodetest.Cluster, service string, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		slices, err := c.Client.DiscoveryV1().EndpointSlices("default").List(context.Background(),
			metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=" + service})
		ready := 0
		if err == nil {
			for _, s := range slices.Items {
				for _, e := range s.Endpoints {
					if e.Conditions.Ready != nil && *e.Conditions.Ready {
						ready++
					}
				}
			}
		}
		if ready == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("service %s: %d ready endpoints, want %d", service, ready, n)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// httpGet fetches url from the test process (the host namespace).
func httpGet(t *testing.T, url string) string {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(body))
}

// query asks the DNS server at addr, over UDP, for name and type.
func query(t *testing.T, addr, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	client := &dns.Client{Timeout: 5 * time.Second}
	resp, _, err := client.Exchange(m, addr)
	if err != nil {
		t.Fatalf("query %s %s at %s: %v", name, dns.TypeToString[qtype], addr, err)
	}
	return resp
}
