package e2e

import (
	"net"
	"strings"
	"testing"
)

// shopManifest is a multi-document manifest: a Namespace first, then one
// object of each common kind inside it.
const shopManifest = `apiVersion: v1
kind: Namespace
metadata:
  name: {{ns}}-shop
  labels:
    e2e: shop
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: {{ns}}-shop
  labels:
    app: shop
data:
  mode: blue
  size: large
---
apiVersion: v1
kind: Secret
metadata:
  name: creds
  namespace: {{ns}}-shop
type: Opaque
data:
  password: aHVudGVyMg==
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
  namespace: {{ns}}-shop
  labels:
    app: shop
spec:
  replicas: 2
  selector:
    matchLabels:
      app: shop
  template:
    metadata:
      labels:
        app: shop
    spec:
      containers:
      - name: shop
        image: nginx:1.27
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: shop
  namespace: {{ns}}-shop
spec:
  selector:
    app: shop
  ports:
  - port: 80
    targetPort: 80
---
apiVersion: batch/v1
kind: Job
metadata:
  name: once
  namespace: {{ns}}-shop
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: once
        image: busybox:1.36
        command: ["true"]
`

// shopObjects are the objects of shopManifest as kubectl names them.
var shopObjects = []string{"namespace/{{ns}}-shop", "configmap/settings", "secret/creds", "deployment.apps/shop", "service/shop", "job.batch/once"}

// outcomes returns "<object> <verb>" for each of shopObjects.
func outcomes(k *kubectl, verb string) []string {
	var out []string
	for _, obj := range shopObjects {
		out = append(out, fill(obj, k)+" "+verb)
	}
	return out
}

// checkShopDefaults checks the fields the server fills in for the objects
// of shopManifest, as Kubernetes does.
func checkShopDefaults(t *testing.T, k *kubectl) {
	t.Helper()
	ns := k.ns + "-shop"
	k.wantField("namespace "+ns, "{.status.phase}", "Active")
	k.wantField("namespace "+ns, `{.metadata.labels.kubernetes\.io/metadata\.name}`, ns)
	k.wantField("-n "+ns+" secret creds", "{.data.password}", "aHVudGVyMg==")
	k.wantField("-n "+ns+" secret creds", "{.type}", "Opaque")
	deploy := "-n " + ns + " deployment shop"
	k.wantField(deploy, "{.spec.strategy.type}", "RollingUpdate")
	k.wantField(deploy, "{.spec.strategy.rollingUpdate.maxSurge} {.spec.strategy.rollingUpdate.maxUnavailable}", "25% 25%")
	k.wantField(deploy, "{.spec.revisionHistoryLimit} {.spec.progressDeadlineSeconds}", "10 600")
	k.wantField(deploy, "{.spec.template.spec.containers[0].imagePullPolicy}", "IfNotPresent")
	k.wantField(deploy, "{.spec.template.spec.containers[0].ports[0].protocol}", "TCP")
	k.wantField(deploy, "{.spec.template.spec.restartPolicy} {.spec.template.spec.dnsPolicy}", "Always ClusterFirst")
	k.wantField(deploy, "{.metadata.generation}", "1")
	svc := "-n " + ns + " service shop"
	k.wantField(svc, "{.spec.type} {.spec.ports[0].protocol} {.spec.sessionAffinity}", "ClusterIP TCP None")
	ip := k.field(svc, "{.spec.clusterIP}")
	_, serviceCIDR, _ := net.ParseCIDR("10.43.0.0/16")
	if parsed := net.ParseIP(ip); parsed == nil || !serviceCIDR.Contains(parsed) {
		t.Errorf("service clusterIP %q is not in the service CIDR %s", ip, serviceCIDR)
	}
	if got := k.field(svc, "{.spec.clusterIPs[0]}"); got != ip {
		t.Errorf("spec.clusterIPs[0] = %q, want the clusterIP %q", got, ip)
	}
	job := "-n " + ns + " job once"
	k.wantField(job, "{.spec.completions} {.spec.parallelism} {.spec.backoffLimit} {.spec.completionMode}", "1 1 6 NonIndexed")
	uid := k.field(job, "{.metadata.uid}")
	k.wantField(job, `{.spec.selector.matchLabels.batch\.kubernetes\.io/controller-uid}`, uid)
	k.wantField(job, `{.spec.template.metadata.labels.batch\.kubernetes\.io/job-name}`, "once")
}

// testApplyClientSide: kubectl apply of a multi-document manifest creates,
// leaves unchanged, and three-way-merges.
func testApplyClientSide(t *testing.T, k *kubectl) {
	manifest := fill(shopManifest, k)
	k.okIn(manifest, "apply", "-f", "-").has(t, outcomes(k, "created")...)
	checkShopDefaults(t, k)
	ns := k.ns + "-shop"
	lastApplied := k.field("-n "+ns+" configmap settings", `{.metadata.annotations.kubectl\.kubernetes\.io/last-applied-configuration}`)
	if !strings.Contains(lastApplied, `"mode":"blue"`) {
		t.Errorf("last-applied-configuration = %q, want it to hold the applied data", lastApplied)
	}

	// The same manifest again changes nothing.
	k.okIn(manifest, "apply", "-f", "-").has(t, outcomes(k, "unchanged")...)
	k.wantField("-n "+ns+" deployment shop", "{.metadata.generation}", "1")

	// A changed value is updated; a key dropped from the manifest is
	// removed from the object (three-way merge).
	changed := strings.Replace(manifest, "  mode: blue\n  size: large\n", "  mode: green\n", 1)
	changed = strings.Replace(changed, "replicas: 2", "replicas: 3", 1)
	k.okIn(changed, "apply", "-f", "-").has(t,
		"configmap/settings configured", "deployment.apps/shop configured",
		"secret/creds unchanged", "service/shop unchanged", "job.batch/once unchanged")
	k.wantField("-n "+ns+" configmap settings", "{.data}", `{"mode":"green"}`)
	k.wantField("-n "+ns+" deployment shop", "{.spec.replicas} {.metadata.generation}", "3 2")
}

// testApplyServerSide: kubectl apply --server-side of the same manifest,
// with field ownership.
func testApplyServerSide(t *testing.T, k *kubectl) {
	manifest := fill(shopManifest, k)
	k.okIn(manifest, "apply", "--server-side", "-f", "-").has(t, outcomes(k, "serverside-applied")...)
	checkShopDefaults(t, k)
	ns := k.ns + "-shop"
	cm := "-n " + ns + " configmap settings"
	k.wantField(cm, `{.metadata.managedFields[?(@.manager=="kubectl")].operation}`, "Apply")
	k.wantField("-n "+ns+" deployment shop", `{.metadata.managedFields[?(@.manager=="kubectl")].operation}`, "Apply")
	if got := k.field(cm, `{.metadata.annotations}`); strings.Contains(got, "last-applied-configuration") {
		t.Errorf("server-side apply wrote the client-side annotation: %s", got)
	}

	// Applying again is idempotent.
	rv := k.field(cm, "{.metadata.resourceVersion}")
	k.okIn(manifest, "apply", "--server-side", "-f", "-").has(t, outcomes(k, "serverside-applied")...)
	k.wantField(cm, "{.metadata.resourceVersion}", rv)
	k.wantField("-n "+ns+" deployment shop", "{.metadata.generation}", "1")

	// Fields the manager no longer applies are removed.
	changed := strings.Replace(manifest, "  mode: blue\n  size: large\n", "  mode: green\n", 1)
	k.okIn(changed, "apply", "--server-side", "-f", "-").has(t, "configmap/settings serverside-applied")
	k.wantField(cm, "{.data}", `{"mode":"green"}`)

	// Another manager's change conflicts; --force-conflicts takes it over.
	k.ok("-n", ns, "patch", "configmap", "settings", "--type=merge", "-p", `{"data":{"mode":"red"}}`).has(t, "configmap/settings patched")
	k.wantField(cm, `{.metadata.managedFields[?(@.manager=="kubectl-patch")].operation}`, "Update")
	k.failsIn(changed, "apply", "--server-side", "-f", "-").hasErr(t, "Apply failed with 1 conflict", `conflict with "kubectl-patch"`, ".data.mode")
	k.wantField(cm, "{.data.mode}", "red")
	k.okIn(changed, "apply", "--server-side", "--force-conflicts", "-f", "-").has(t, "configmap/settings serverside-applied")
	k.wantField(cm, "{.data.mode}", "green")
}
