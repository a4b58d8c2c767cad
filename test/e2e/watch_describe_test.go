package e2e

import (
	"strings"
	"testing"
	"time"
)

// labeledConfigMap is a config map manifest with the labels given in YAML
// flow style ("a: b, c: d").
func labeledConfigMap(name, labels string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n  labels: {" + labels + "}\ndata: {k: v}\n"
}

// testGetWatch: kubectl get -w prints the list, then one line per change.
func testGetWatch(t *testing.T, k *kubectl) {
	k.okIn(labeledConfigMap("first", "w: x"), "apply", "-f", "-")

	w := k.start("get", "configmaps", "-l", "w", "-w")
	if !w.waitLine(`^NAME\s+DATA\s+AGE$`) || !w.waitLine(`^first\s+1\s+\S+$`) {
		return
	}
	k.okIn(labeledConfigMap("second", "w: x"), "apply", "-f", "-")
	w.waitLine(`^second\s+1\s+\S+$`)
	k.ok("label", "configmap", "first", "seen=yes")
	w.waitLine(`^first\s+1\s+\S+$`)
	k.okIn(labeledConfigMap("ignored", "other: x"), "apply", "-f", "-")
	k.ok("delete", "configmap", "second")
	w.waitLine(`^second\s+1\s+\S+$`) // the deletion
	w.stop()
	for _, line := range w.seen {
		if strings.HasPrefix(line, "ignored ") {
			t.Errorf("watch with -l w printed an object without the label:\n%s", w.describe())
		}
	}

	// A raw watch without a resourceVersion starts with the current state
	// and ends after timeoutSeconds.
	start := time.Now()
	raw := k.ok("get", "--raw", "/api/v1/namespaces/"+k.ns+"/configmaps?watch=true&timeoutSeconds=1&fieldSelector=metadata.name%3Dfirst")
	raw.matches(t, `^\{"type":"ADDED","object":\{"kind":"ConfigMap","apiVersion":"v1","metadata":\{"name":"first"`)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("watch with timeoutSeconds=1 lasted %v", d)
	}

	// --watch-only --output-watch-events: no list, one typed event per
	// change, selected by a field selector.
	e := k.start("get", "configmaps", "--watch-only", "--output-watch-events", "--field-selector", "metadata.name=third", "-v=6")
	if !e.waitStderr("watch=true") { // the server answered the watch request
		return
	}
	k.okIn(labeledConfigMap("third", "w: x"), "apply", "-f", "-")
	if e.waitLine(`^EVENT\s+NAME\s+DATA\s+AGE$`) && e.waitLine(`^ADDED\s+third\s+1\s+\S+$`) {
		k.ok("patch", "configmap", "third", "--type=merge", "-p", `{"data":{"k2":"v2"}}`)
		e.waitLine(`^MODIFIED\s+third\s+2\s+\S+$`)
		k.ok("delete", "configmap", "third")
		e.waitLine(`^DELETED\s+third\s+2\s+\S+$`)
	}
	e.stop()
}

// testDescribe: kubectl describe of a config map, a deployment and a
// namespace.
func testDescribe(t *testing.T, k *kubectl) {
	k.okIn(`apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  labels: {app: shop}
  annotations: {note: hello}
data:
  mode: blue
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - containerPort: 80
        env:
        - name: MODE
          value: blue
`, "apply", "-f", "-")

	k.ok("describe", "configmap", "settings").matches(t,
		`^Name:\s+settings$`,
		`^Namespace:\s+`+k.ns+`$`,
		`^Labels:\s+app=shop$`,
		`^Annotations:\s+note: hello$`,
		`^Data\n====\nmode:\n----\n\n?blue$`,
		`^Events:\s+<none>$`)

	k.ok("describe", "deployment", "web").matches(t,
		`^Name:\s+web$`,
		`^Namespace:\s+`+k.ns+`$`,
		`^Labels:\s+app=web$`,
		`^Selector:\s+app=web$`,
		`^Replicas:\s+2 desired \| [0-2] updated \| [0-2] total \| 0 available \| [0-2] unavailable$`,
		`^StrategyType:\s+RollingUpdate$`,
		`^MinReadySeconds:\s+0$`,
		`^RollingUpdateStrategy:\s+25% max unavailable, 25% max surge$`,
		`^\s+Image:\s+nginx:1\.27$`,
		`^\s+Port:\s+80/TCP$`,
		`^\s+MODE:\s+blue$`)

	// kubectl finds the deployment's replica set (made by the deployment
	// controller) by its selector and controller reference.
	var rs string
	k.eventually("the deployment's replica set has made its pods", func() (bool, string) {
		r := k.run("get", "replicasets", "-l", "app=web", "-o", "jsonpath={.items[*].metadata.name} {.items[*].status.replicas}")
		name, replicas, _ := strings.Cut(strings.TrimSpace(r.stdout), " ")
		rs = name
		return name != "" && replicas == "2", r.String()
	})
	k.ok("describe", "deployment", "web").matches(t, `^OldReplicaSets:\s+<none>$`, `^NewReplicaSet:\s+`+rs+` \(2/2 replicas created\)$`)
	k.ok("describe", "replicaset", rs).matches(t,
		`^Controlled By:\s+Deployment/web$`,
		`^Replicas:\s+2 current / 2 desired$`,
		`^Pods Status:\s+0 Running / 2 Waiting / 0 Succeeded / 0 Failed$`)

	k.ok("describe", "namespace", k.ns).matches(t,
		`^Name:\s+`+k.ns+`$`,
		`^Labels:\s+kubernetes\.io/metadata\.name=`+k.ns+`$`,
		`^Status:\s+Active$`,
		`^No resource quota\.$`,
		`^No LimitRange resource\.$`)

	// describe by label selects several objects.
	k.ok("describe", "configmaps", "-l", "app=shop").matches(t, `^Name:\s+settings$`).lacks(t, "kube-root-ca.crt")
	k.fails("describe", "configmap", "ghost").hasErr(t, `configmaps "ghost" not found`)
}
