package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// testWait: kubectl wait --for=condition on a condition set through the
// status subresource, and --for=delete and --for=jsonpath.
func testWait(t *testing.T, k *kubectl) {
	k.okIn(webDeployment, "apply", "-f", "-")
	k.fails("wait", "--for=condition=Available", "deployment/web", "--timeout=1s").
		hasErr(t, "timed out waiting for the condition on deployments/web")

	w := k.start("wait", "--for=condition=Available", "deployment/web", "--timeout=40s", "-v=6")
	if !w.waitStderr("watch=true") { // kubectl now watches
		return
	}
	// No node runs the pods; with none wanted, the deployment controller
	// reports the deployment Available.
	k.ok("scale", "deployment", "web", "--replicas=0").equals(t, "deployment.apps/web scaled")
	if r, ok := w.wait(30 * time.Second); ok {
		if r.code != 0 || strings.TrimSpace(r.stdout) != "deployment.apps/web condition met" {
			t.Errorf("kubectl wait: want exit 0 and %q:\n%s", "deployment.apps/web condition met", r)
		}
	}
	k.ok("wait", "--for=condition=Available=True", "deployment/web", "--timeout=10s").equals(t, "deployment.apps/web condition met")
	k.wantField("deployment web", `{.status.conditions[?(@.type=="Available")].reason}`, "MinimumReplicasAvailable")
	// The controller's status write is recorded as its manager's, on the
	// status subresource.
	k.wantField("deployment web", `{.metadata.managedFields[?(@.subresource=="status")].manager}`, "tug-controller-manager")

	// The main resource ignores status; the status subresource ignores
	// spec.
	k.ok("patch", "deployment", "web", "--type=merge", "-p", `{"status":{"replicas":7}}`).equals(t, "deployment.apps/web patched (no change)")
	k.wantField("deployment web", "{.status.replicas}", "")
	k.ok("patch", "deployment", "web", "--subresource=status", "--type=merge", "-p", `{"spec":{"replicas":9}}`).
		equals(t, "deployment.apps/web patched (no change)")
	k.wantField("deployment web", "{.spec.replicas} {.metadata.generation}", "0 2")

	k.ok("wait", "--for=jsonpath={.status.phase}=Active", "namespace/"+k.ns, "--timeout=10s").equals(t, "namespace/"+k.ns+" condition met")

	k.okIn(heldConfigMap("doomed"), "apply", "-f", "-")
	k.ok("delete", "configmap", "doomed", "--wait=false")
	d := k.start("wait", "--for=delete", "configmap/doomed", "--timeout=40s", "-v=6")
	if !d.waitStderr("watch=true") {
		return
	}
	release(k, "configmap doomed")
	if r, ok := d.wait(30 * time.Second); ok {
		if r.code != 0 || strings.TrimSpace(r.stdout) != "configmap/doomed condition met" {
			t.Errorf("kubectl wait --for=delete: want exit 0 and %q:\n%s", "configmap/doomed condition met", r)
		}
	}
	k.wantNotFound("configmap doomed")
}

// testDryRun: --dry-run=server and --dry-run=client persist nothing.
func testDryRun(t *testing.T, k *kubectl) {
	k.ok("create", "configmap", "d1", "--from-literal=a=b", "--dry-run=server").equals(t, "configmap/d1 created (server dry run)")
	k.wantNotFound("configmap d1")
	k.ok("create", "configmap", "d2", "--from-literal=a=b", "--dry-run=client", "-o", "yaml").matches(t, `^  name: d2$`, `^  a: b$`)
	k.wantNotFound("configmap d2")
	// A server dry run returns the object as it would be stored.
	k.ok("create", "deployment", "d3", "--image=nginx:1.27", "--dry-run=server", "-o", "jsonpath={.spec.strategy.type} {.spec.template.spec.containers[0].imagePullPolicy} {.metadata.generation}").
		equals(t, "RollingUpdate IfNotPresent 1")
	k.wantNotFound("deployment d3")
	// Validation still runs.
	k.fails("create", "configmap", "Bad_Name", "--dry-run=server").hasErr(t, `error: failed to create configmap: ConfigMap "Bad_Name" is invalid: metadata.name`)

	manifest := strings.Replace(settingsConfigMap, "name: settings", "name: planned", 1)
	k.okIn(manifest, "apply", "-f", "-", "--dry-run=server").equals(t, "configmap/planned created (server dry run)")
	k.okIn(manifest, "apply", "-f", "-", "--dry-run=client").equals(t, "configmap/planned created (dry run)")
	k.okIn(manifest, "apply", "--server-side", "-f", "-", "--dry-run=server").equals(t, "configmap/planned serverside-applied (server dry run)")
	k.wantNotFound("configmap planned")

	k.okIn(settingsConfigMap, "apply", "-f", "-")
	rv := k.field("configmap settings", "{.metadata.resourceVersion}")
	changed := strings.Replace(settingsConfigMap, "mode: blue", "mode: green", 1)
	k.okIn(changed, "apply", "-f", "-", "--dry-run=server").equals(t, "configmap/settings configured (server dry run)")
	k.okIn(changed, "apply", "-f", "-", "--dry-run=client").equals(t, "configmap/settings configured (dry run)")
	k.okIn(changed, "apply", "--server-side", "-f", "-", "--dry-run=server").equals(t, "configmap/settings serverside-applied (server dry run)")
	k.ok("patch", "configmap", "settings", "--type=merge", "-p", `{"data":{"mode":"red"}}`, "--dry-run=server").
		equals(t, "configmap/settings patched") // kubectl patch prints no dry-run suffix
	k.ok("label", "configmap", "settings", "x=y", "--dry-run=server").equals(t, "configmap/settings labeled (server dry run)")
	k.ok("delete", "configmap", "settings", "--dry-run=server").equals(t, `configmap "settings" deleted (server dry run)`)
	k.ok("delete", "configmap", "settings", "--dry-run=client").equals(t, `configmap "settings" deleted (dry run)`)
	k.ok("delete", "configmaps", "--all", "--dry-run=server").has(t, `configmap "settings" deleted (server dry run)`)
	k.wantField("configmap settings", "{.metadata.resourceVersion} {.data.mode} {.metadata.labels.x}", rv+" blue ")
	k.wantField("configmap settings", "{.metadata.deletionTimestamp}", "")
}

// testVersionRaw: kubectl version and get --raw of the health, version
// and metrics endpoints.
func testVersionRaw(t *testing.T, k *kubectl) {
	want := servedVersion(t)
	var v struct {
		ServerVersion struct {
			Major      string `json:"major"`
			Minor      string `json:"minor"`
			GitVersion string `json:"gitVersion"`
			Platform   string `json:"platform"`
		} `json:"serverVersion"`
	}
	out := k.ok("version", "-o", "json").stdout
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Errorf("version -o json: %v\n%s", err, out)
	}
	if sv := v.ServerVersion; sv.GitVersion != want.git || sv.Major != "1" || sv.Minor != want.minor || sv.Platform != "linux/amd64" && sv.Platform != "linux/arm64" {
		t.Errorf("server version %+v, want gitVersion %s, major 1, minor %s:\n%s", sv, want.git, want.minor, out)
	}
	k.ok("version").matches(t, `^Client Version: v`+regexp.QuoteMeta(k.minor)+`\.`, `^Server Version: `+regexp.QuoteMeta(want.git)+`$`)

	for _, path := range []string{"/readyz", "/livez", "/healthz"} {
		k.ok("get", "--raw", path).equals(t, "ok")
	}
	raw := k.ok("get", "--raw", "/version").stdout
	var info struct{ Major, Minor, GitVersion string }
	if err := json.Unmarshal([]byte(raw), &info); err != nil || info.GitVersion != want.git || info.Major != "1" || info.Minor != want.minor {
		t.Errorf("GET /version = %s (%v), want gitVersion %s, major 1, minor %s", raw, err, want.git, want.minor)
	}
	k.ok("get", "--raw", "/api").has(t, `"kind":"APIVersions"`)
	k.ok("get", "--raw", "/apis").has(t, `"kind":"APIGroupList"`)
	k.ok("get", "--raw", "/api/v1/namespaces/"+k.ns).has(t, `"kind":"Namespace"`, `"name":"`+k.ns+`"`)
	// An empty list has an empty items array, not null, paginated
	// (kubectl's lists) or not.
	for _, query := range []string{"", "?limit=500", "?labelSelector=none%3Dnone&limit=500"} {
		k.ok("get", "--raw", "/api/v1/namespaces/"+k.ns+"/pods"+query).has(t, `"kind":"PodList"`, `"items":[]`)
	}

	k.ok("get", "configmaps")
	metrics := k.ok("get", "--raw", "/metrics")
	metrics.matches(t,
		`^# TYPE apiserver_request_total counter$`,
		`^apiserver_request_total\{.*code="200".*resource="configmaps".*verb="LIST".*\} \d+$`,
		`^# TYPE apiserver_request_duration_seconds histogram$`,
		`^apiserver_request_duration_seconds_bucket\{.*resource="configmaps".*verb="LIST".*\} \d+$`)

	k.ok("auth", "can-i", "create", "pods").equals(t, "yes")
	clusterInfo := k.ok("cluster-info")
	if plain := regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(clusterInfo.stdout, ""); !strings.Contains(plain, "Kubernetes control plane is running at https://127.0.0.1:") {
		t.Errorf("cluster-info: want the control plane's address:\n%s", clusterInfo)
	}

	// The kubernetes service, its endpoints and endpoint slice point at
	// this server.
	k.ok("-n", "default", "get", "service", "kubernetes").wantTable(t, `NAME TYPE CLUSTER-IP EXTERNAL-IP PORT\(S\) AGE`, `kubernetes ClusterIP 10\.43\.0\.1 <none> 443/TCP \S+`)
	server := k.ok("config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}").stdout
	port := server[strings.LastIndex(server, ":")+1:]
	k.wantField("-n default service kubernetes", "{.spec.ports[0].name} {.spec.ports[0].port} {.spec.ports[0].targetPort}", "https 443 "+port)
	for _, c := range []struct{ args, want string }{
		{"-n default endpoints kubernetes -o jsonpath={.subsets[0].addresses[0].ip}:{.subsets[0].ports[0].port}", "127.0.0.1:" + port},
		{"-n default endpointslices -l kubernetes.io/service-name=kubernetes -o jsonpath={.items[*].metadata.name}:{.items[0].ports[0].port}", "kubernetes:" + port},
	} {
		r := k.run(append([]string{"get"}, strings.Fields(c.args)...)...)
		if r.code != 0 || r.stdout != c.want {
			t.Errorf("want %q:\n%s", c.want, r)
		}
	}
}

// served is the Kubernetes version the server should report: the release
// of k8s.io/api in go.mod.
type served struct {
	git   string // e.g. v1.37.2
	minor string // e.g. 37
}

func servedVersion(t *testing.T) served {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*k8s\.io/api v0\.(\d+)\.(\d+)\s*$`).FindStringSubmatch(string(data))
	if m == nil {
		t.Fatalf("go.mod requires no k8s.io/api v0.x.y")
	}
	return served{git: "v1." + m[1] + "." + m[2], minor: m[1]}
}
