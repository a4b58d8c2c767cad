package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// letters are three labeled config maps, created in an order that is
// neither their name order nor their rank order, and a deployment, a
// service and a pod that share the app=shop label.
const letters = `apiVersion: v1
kind: ConfigMap
metadata:
  name: charlie
  labels: {app: shop, tier: back}
data: {rank: "1"}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: alpha
  labels: {app: shop, tier: front}
data: {rank: "3"}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: bravo
  labels: {app: blog}
data: {rank: "2", extra: "x"}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: shop}
spec:
  replicas: 2
  selector:
    matchLabels: {app: shop}
  template:
    metadata:
      labels: {app: shop}
    spec:
      containers:
      - name: web
        image: nginx:1.27
---
apiVersion: v1
kind: Service
metadata:
  name: web
  labels: {app: shop}
spec:
  selector: {app: shop}
  ports:
  - port: 80
---
apiVersion: v1
kind: Pod
metadata:
  name: runner
  labels: {app: shop}
spec:
  containers:
  - name: runner
    image: busybox:1.36
    command: ["sleep", "3600"]
`

// testGetOutput: kubectl get with each output format.
func testGetOutput(t *testing.T, k *kubectl) {
	k.okIn(letters, "apply", "-f", "-")

	k.ok("get", "configmaps", "-l", "app").wantTable(t,
		`NAME DATA AGE`,
		`alpha 1 \d+s`,
		`bravo 2 \d+s`,
		`charlie 1 \d+s`)
	checkAge(t, k, "configmap/alpha")

	k.ok("get", "deployment", "web", "-o", "wide").matches(t,
		`^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR$`,
		// The controller makes the pods (UP-TO-DATE); no node runs them.
		`^web\s+0/2\s+[0-2]\s+0\s+\S+\s+web\s+nginx:1\.27\s+app=shop$`)
	k.ok("get", "pod", "runner", "-o", "wide").matches(t,
		`^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$`,
		`^runner\s+0/1\s+Pending\s+0\s+\S+\s+<none>\s+<none>\s+<none>\s+<none>$`)
	k.ok("get", "service", "web", "-o", "wide").matches(t,
		`^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\s+SELECTOR$`,
		`^web\s+ClusterIP\s+10\.43\.\d+\.\d+\s+<none>\s+80/TCP\s+\S+\s+app=shop$`)

	// The columns of other kinds, from the server's tables.
	k.ok("create", "secret", "generic", "token", "--from-literal=a=b", "--from-literal=c=d")
	k.ok("get", "secret", "token").wantTable(t, `NAME TYPE DATA AGE`, `token Opaque 2 \d+s`)
	k.ok("create", "serviceaccount", "robot")
	k.ok("get", "serviceaccount", "robot").wantTable(t, `NAME SECRETS AGE`, `robot 0 \d+s`)
	k.ok("create", "cronjob", "nightly", "--image=busybox:1.36", "--schedule=0 3 * * *")
	k.ok("get", "cronjob", "nightly").wantTable(t, `NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE`, `nightly 0 3 \* \* \* <none> False 0 <none> \d+s`)
	k.okIn(`apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: front
spec:
  replicas: 3
  selector:
    matchLabels: {app: front}
  template:
    metadata:
      labels: {app: front}
    spec:
      containers:
      - name: front
        image: nginx:1.27
`, "apply", "-f", "-")
	k.ok("get", "replicaset", "front").wantTable(t, `NAME DESIRED CURRENT READY AGE`, `front 3 [0-3] 0 \d+s`)
	k.ok("get", "replicaset", "front", "-o", "wide").wantTable(t, `NAME DESIRED CURRENT READY AGE CONTAINERS IMAGES SELECTOR`, `front 3 [0-3] 0 \d+s front nginx:1.27 app=front`)

	// -o yaml and -o json carry the whole object.
	for _, format := range []string{"yaml", "json"} {
		out := k.ok("get", "configmap", "alpha", "-o", format).stdout
		var cm corev1.ConfigMap
		if err := yaml.Unmarshal([]byte(out), &cm); err != nil {
			t.Errorf("-o %s: %v\n%s", format, err, out)
			continue
		}
		if cm.APIVersion != "v1" || cm.Kind != "ConfigMap" || cm.Name != "alpha" || cm.Namespace != k.ns ||
			cm.Data["rank"] != "3" || cm.Labels["tier"] != "front" || cm.UID == "" || cm.ResourceVersion == "" ||
			cm.CreationTimestamp.IsZero() {
			t.Errorf("-o %s: unexpected object:\n%s", format, out)
		}
	}
	k.ok("get", "configmap", "alpha", "-o", "yaml").matches(t, `^apiVersion: v1$`, `^kind: ConfigMap$`, `^  name: alpha$`, `^  rank: "3"$`)

	// A list is printed as a v1 List.
	var list struct {
		APIVersion string             `json:"apiVersion"`
		Kind       string             `json:"kind"`
		Items      []corev1.ConfigMap `json:"items"`
	}
	out := k.ok("get", "configmaps", "-l", "app=shop", "-o", "json").stdout
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Errorf("-o json list: %v\n%s", err, out)
	} else if list.Kind != "List" || list.APIVersion != "v1" || len(list.Items) != 2 ||
		list.Items[0].Name != "alpha" || list.Items[1].Name != "charlie" || list.Items[0].Kind != "ConfigMap" {
		t.Errorf("-o json list: want a List of alpha and charlie:\n%s", out)
	}

	k.ok("get", "configmap", "bravo", "-o", "jsonpath={.data.rank}/{.data.extra}/{.metadata.labels.app}").equals(t, "2/x/blog")
	k.ok("get", "configmaps", "-l", "app", "-o", "jsonpath={.items[*].metadata.name}").equals(t, "alpha bravo charlie")
	k.ok("get", "configmaps", "-l", "app", "-o", `jsonpath={range .items[*]}{.metadata.name}={.data.rank}{"\n"}{end}`).
		equals(t, "alpha=3\nbravo=2\ncharlie=1")
	k.ok("get", "configmaps", "-l", "app", "-o", "name").equals(t, "configmap/alpha\nconfigmap/bravo\nconfigmap/charlie")
	k.ok("get", "deployments,services", "-l", "app=shop", "-o", "name").equals(t, "deployment.apps/web\nservice/web")
	k.ok("get", "configmaps", "-l", "app", "-o", "custom-columns=NAME:.metadata.name,RANK:.data.rank,TIER:.metadata.labels.tier").
		wantRows(t, "NAME RANK TIER", "alpha 3 front", "bravo 2 <none>", "charlie 1 back")

	// The "all" category.
	k.ok("get", "all", "-o", "name").has(t, "pod/runner", "service/web", "deployment.apps/web").lacks(t, "configmap/")

	// --show-labels adds a LABELS column, keys sorted.
	k.ok("get", "configmaps", "-l", "app", "--show-labels").matches(t,
		`^NAME\s+DATA\s+AGE\s+LABELS$`,
		`^alpha\s+1\s+\S+\s+app=shop,tier=front$`,
		`^bravo\s+2\s+\S+\s+app=blog$`)

	// --sort-by sorts on any field of the object.
	k.ok("get", "configmaps", "-l", "app", "--sort-by=.data.rank", "-o", "name").
		equals(t, "configmap/charlie\nconfigmap/bravo\nconfigmap/alpha")
	r := k.ok("get", "configmaps", "-l", "app", "--sort-by=.data.rank")
	if rows := r.rows(); len(rows) != 4 || !strings.HasPrefix(rows[1], "charlie ") || !strings.HasPrefix(rows[2], "bravo ") || !strings.HasPrefix(rows[3], "alpha ") {
		t.Errorf("--sort-by=.data.rank: want charlie, bravo, alpha:\n%s", r)
	}
	k.ok("get", "configmaps", "-l", "app", "--sort-by=.metadata.creationTimestamp", "-o", "jsonpath={.items[*].metadata.name}").
		has(t, "charlie") // creation times have a resolution of seconds: all three may tie

	// Errors and empty results.
	k.fails("get", "configmap", "nonexistent").hasErr(t, `Error from server (NotFound): configmaps "nonexistent" not found`)
	k.ok("get", "configmaps", "-l", "app=none").equals(t, "")
	k.ok("get", "configmaps", "-l", "app=none").hasErr(t, "No resources found in "+k.ns+" namespace.")
}

// checkAge checks that obj was created just now.
func checkAge(t *testing.T, k *kubectl, obj string) {
	t.Helper()
	ts := k.field(obj, "{.metadata.creationTimestamp}")
	created, err := time.Parse(time.RFC3339, ts)
	if err != nil {
		t.Errorf("creationTimestamp of %s = %q: %v", obj, ts, err)
		return
	}
	if d := time.Since(created); d < -2*time.Second || d > time.Minute {
		t.Errorf("creationTimestamp of %s = %s: %v from now", obj, ts, d)
	}
}

// testGetSelect: chunked lists, label and field selectors, -A.
func testGetSelect(t *testing.T, k *kubectl) {
	k.okIn(letters, "apply", "-f", "-")
	other := k.ns + "-other"
	k.ok("create", "namespace", other)
	k.okIn("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: delta\n  labels: {app: shop}\ndata: {rank: \"4\"}\n",
		"apply", "-n", other, "-f", "-").has(t, "configmap/delta created")

	// --chunk-size=1 pages through the list with limit and continue, and
	// prints one table.
	r := k.ok("get", "configmaps", "-l", "app", "--chunk-size=1", "-v=6")
	if rows := r.rows(); len(rows) != 4 || rows[0] != "NAME DATA AGE" ||
		!strings.HasPrefix(rows[1], "alpha ") || !strings.HasPrefix(rows[2], "bravo ") || !strings.HasPrefix(rows[3], "charlie ") {
		t.Errorf("--chunk-size=1: want one header and alpha, bravo, charlie:\n%s", r)
	}
	pages := 0
	for _, line := range strings.Split(r.stderr, "\n") {
		if strings.Contains(line, "/configmaps?") && strings.Contains(line, "limit=1") {
			pages++
		}
	}
	// A fourth, empty page is allowed: the server may not know that no
	// further object matches.
	if pages < 3 || pages > 4 || !strings.Contains(r.stderr, "continue=") {
		t.Errorf("--chunk-size=1 over 3 objects: %d requests with limit=1 (want 3 or 4), continue token used: %v\n%s",
			pages, strings.Contains(r.stderr, "continue="), r)
	}
	k.ok("get", "configmaps", "-l", "app", "--chunk-size=2", "-o", "name").equals(t, "configmap/alpha\nconfigmap/bravo\nconfigmap/charlie")

	// Label selectors: equality, set-based, existence, negation.
	k.ok("get", "configmaps", "-l", "app=shop", "-o", "name").equals(t, "configmap/alpha\nconfigmap/charlie")
	k.ok("get", "configmaps", "-l", "app=shop,tier=front", "-o", "name").equals(t, "configmap/alpha")
	k.ok("get", "configmaps", "-l", "app!=shop,app", "-o", "name").equals(t, "configmap/bravo")
	k.ok("get", "configmaps", "-l", "tier in (front,back)", "-o", "name").equals(t, "configmap/alpha\nconfigmap/charlie")
	k.ok("get", "configmaps", "-l", "app,!tier", "-o", "name").equals(t, "configmap/bravo")
	k.ok("get", "configmaps", "-l", "tier notin (front),app", "-o", "name").equals(t, "configmap/bravo\nconfigmap/charlie")

	// Field selectors: the metadata ones every resource has, and per-kind
	// ones.
	k.ok("get", "configmaps", "--field-selector", "metadata.name=bravo", "-o", "name").equals(t, "configmap/bravo")
	k.ok("get", "configmaps", "-l", "app", "--field-selector", "metadata.name!=bravo", "-o", "name").equals(t, "configmap/alpha\nconfigmap/charlie")
	k.ok("get", "configmaps", "-A", "--field-selector", "metadata.namespace="+other, "-o", "name").equals(t, "configmap/delta\nconfigmap/kube-root-ca.crt")
	// The deployment's pods are pending too: no node runs them.
	k.ok("get", "pods", "-l", "!pod-template-hash", "--field-selector", "status.phase=Pending", "-o", "name").equals(t, "pod/runner")
	k.ok("get", "pods", "-l", "!pod-template-hash", "--field-selector", "spec.nodeName=", "-o", "name").equals(t, "pod/runner")
	k.ok("get", "pods", "--field-selector", "status.phase=Running", "-o", "name").equals(t, "")
	k.ok("get", "services", "--field-selector", "spec.clusterIP!=None", "-o", "name").equals(t, "service/web")
	k.fails("get", "configmaps", "--field-selector", "data.rank=1").hasErr(t, "(BadRequest)", `field label not supported: data.rank`)

	// -A lists every namespace, with a NAMESPACE column.
	// Listed in storage key order: "<ns>-other/" sorts before "<ns>/".
	k.ok("label", "configmaps", "alpha", "charlie", "owner="+k.ns)
	k.ok("-n", other, "label", "configmap", "delta", "owner="+k.ns)
	k.ok("get", "configmaps", "-A", "-l", "owner="+k.ns).wantTable(t,
		`NAMESPACE NAME DATA AGE`,
		other+` delta 1 \d+s`,
		k.ns+` alpha 1 \d+s`,
		k.ns+` charlie 1 \d+s`)
	k.ok("get", "namespaces", "-l", "kubernetes.io/metadata.name in ("+k.ns+","+other+")", "-o", "name").
		equals(t, "namespace/"+k.ns+"\nnamespace/"+other)
	k.ok("get", "namespaces", k.ns).matches(t, `^NAME\s+STATUS\s+AGE$`, `^`+k.ns+`\s+Active\s+\S+$`)
}
