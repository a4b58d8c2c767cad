package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const settingsConfigMap = `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  mode: blue
  size: large
`

const webDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
`

// editCancelled is what kubectl edit says when the file comes back
// unchanged.
const editCancelled = "Edit cancelled, no changes made." //nolint:misspell // kubectl's spelling

// editor writes a shell script that kubectl edit runs as EDITOR: it
// applies the sed expression to the file kubectl hands it.
func editor(t *testing.T, k *kubectl, sed string) string {
	t.Helper()
	path := filepath.Join(k.dir, "editor-"+strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' {
			return r
		}
		return '-'
	}, sed)+".sh")
	script := "#!/bin/sh\nset -e\nsed -i -e '" + sed + "' \"$1\"\n"
	if err := os.WriteFile(path, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return path
}

// testEdit: kubectl edit with a scripted EDITOR.
func testEdit(t *testing.T, k *kubectl) {
	k.okIn(settingsConfigMap+"---\n"+webDeployment, "apply", "-f", "-")

	k.editor = editor(t, k, "s/mode: blue/mode: green/")
	k.ok("edit", "configmap", "settings").has(t, "configmap/settings edited")
	k.wantField("configmap settings", "{.data.mode} {.data.size}", "green large")

	// Nothing to change: kubectl says so and sends nothing.
	rv := k.field("configmap settings", "{.metadata.resourceVersion}")
	r := k.ok("edit", "configmap", "settings")
	if !strings.Contains(r.stdout+r.stderr, editCancelled) {
		t.Errorf("edit without a change: want %q:\n%s", editCancelled, r)
	}
	k.wantField("configmap settings", "{.metadata.resourceVersion}", rv)

	k.editor = editor(t, k, `s/"mode": "green"/"mode": "red"/`)
	k.ok("edit", "configmap", "settings", "-o", "json").has(t, `"mode": "red"`) // -o also prints the result
	k.wantField("configmap settings", "{.data.mode}", "red")

	k.editor = editor(t, k, "s/replicas: 1/replicas: 4/;s/image: nginx:1.27/image: nginx:1.28/")
	k.ok("edit", "deployment", "web").has(t, "deployment.apps/web edited")
	k.wantField("deployment web", "{.spec.replicas} {.spec.template.spec.containers[0].image} {.metadata.generation}", "4 nginx:1.28 2")

	// An invalid edit is refused and nothing changes. kubectl reopens the
	// editor with the server's causes as comments; the script changes
	// nothing more, so kubectl gives up and keeps a copy, whose comments
	// name the field.
	k.editor = editor(t, k, "s/replicas: 4/replicas: -2/")
	r = k.fails("edit", "deployment", "web").hasErr(t, `deployments.apps "web" is invalid`, "Edit cancelled, no valid changes were saved.") //nolint:misspell // kubectl's spelling
	if m := regexp.MustCompile(`stored to "([^"]+)"`).FindStringSubmatch(r.stderr); m == nil {
		t.Errorf("invalid edit: kubectl kept no copy:\n%s", r)
	} else if copied, err := os.ReadFile(m[1]); err != nil {
		t.Errorf("invalid edit: %v", err)
	} else if !strings.Contains(string(copied), "# * spec.replicas: Invalid value: -2: must be greater than or equal to 0") {
		t.Errorf("invalid edit: the copy's comments do not name spec.replicas:\n%s", copied)
	}
	k.wantField("deployment web", "{.spec.replicas}", "4")
}

// testPatch: kubectl patch with each patch type.
func testPatch(t *testing.T, k *kubectl) {
	k.okIn(settingsConfigMap+"---\n"+webDeployment, "apply", "-f", "-")

	// JSON patch.
	k.ok("patch", "configmap", "settings", "--type=json",
		"-p", `[{"op":"replace","path":"/data/mode","value":"json"},{"op":"remove","path":"/data/size"}]`).
		has(t, "configmap/settings patched")
	k.wantField("configmap settings", "{.data}", `{"mode":"json"}`)
	k.fails("patch", "configmap", "settings", "--type=json", "-p", `[{"op":"test","path":"/data/mode","value":"other"},{"op":"add","path":"/data/x","value":"y"}]`)
	k.wantField("configmap settings", "{.data}", `{"mode":"json"}`)

	// JSON merge patch: null deletes a key.
	k.ok("patch", "configmap", "settings", "--type=merge", "-p", `{"data":{"extra":"merge","mode":null}}`).
		has(t, "configmap/settings patched")
	k.wantField("configmap settings", "{.data}", `{"extra":"merge"}`)
	k.ok("patch", "configmap", "settings", "--type=merge", "-p", `{"data":{"extra":"merge"}}`).
		has(t, "configmap/settings patched (no change)")

	// Strategic merge patch: lists of containers merge by name.
	containers := "{.spec.template.spec.containers[*].name}"
	k.ok("patch", "deployment", "web", "-p", `{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox:1.36"}]}}}}`).
		has(t, "deployment.apps/web patched")
	k.wantField("deployment web", containers, "sidecar web") // new items first, as strategicpatch merges
	k.ok("patch", "deployment", "web", "--type=strategic", "-p", `{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.28"}]}}}}`).
		has(t, "deployment.apps/web patched")
	k.wantField("deployment web", "{.spec.template.spec.containers[*].image}", "busybox:1.36 nginx:1.28")
	k.ok("patch", "deployment", "web", "--type=strategic", "-p", `{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","$patch":"delete"}]}}}}`).
		has(t, "deployment.apps/web patched")
	k.wantField("deployment web", containers, "web")
	k.wantField("deployment web", "{.spec.template.spec.containers[0].terminationMessagePolicy}", "File")
	// A merge patch replaces the list whole.
	k.ok("patch", "deployment", "web", "--type=merge", "-p", `{"spec":{"template":{"spec":{"containers":[{"name":"only","image":"busybox:1.36"}]}}}}`).
		has(t, "deployment.apps/web patched")
	k.wantField("deployment web", containers, "only")
	// Defaults are applied to what a patch brings in.
	k.wantField("deployment web", "{.spec.template.spec.containers[0].imagePullPolicy}", "IfNotPresent")
	k.wantField("deployment web", "{.metadata.generation}", "5")

	k.fails("patch", "configmap", "ghost", "--type=merge", "-p", `{"data":{"a":"b"}}`).
		hasErr(t, `Error from server (NotFound): configmaps "ghost" not found`)
	k.fails("patch", "configmap", "settings", "--type=json", "-p", `{"not":"a list"}`)
}

// testLabelAnnotate: kubectl label and annotate, --overwrite, removal.
func testLabelAnnotate(t *testing.T, k *kubectl) {
	k.ok("create", "configmap", "tags", "--from-literal=a=b")
	labels := `{.metadata.labels}`

	k.ok("label", "configmap", "tags", "tier=front").equals(t, "configmap/tags labeled")
	k.wantField("configmap tags", labels, `{"tier":"front"}`)
	k.fails("label", "configmap", "tags", "tier=back").hasErr(t, "'tier' already has a value (front), and --overwrite is false")
	k.wantField("configmap tags", labels, `{"tier":"front"}`)
	k.ok("label", "configmap", "tags", "tier=back", "--overwrite").equals(t, "configmap/tags labeled")
	k.wantField("configmap tags", labels, `{"tier":"back"}`)
	k.ok("label", "configmap", "tags", "env=prod", "team=a").equals(t, "configmap/tags labeled")
	k.ok("label", "configmap", "tags", "tier-").equals(t, "configmap/tags unlabeled")
	k.wantField("configmap tags", labels, `{"env":"prod","team":"a"}`)
	k.ok("label", "configmap", "tags", "env-", "team-").equals(t, "configmap/tags unlabeled")
	if got := k.field("configmap tags", labels); got != "" && got != "{}" {
		t.Errorf("labels after removing all = %q, want none", got)
	}
	k.ok("create", "configmap", "other")
	k.ok("label", "configmaps", "tags", "other", "batch=1").has(t, "configmap/tags labeled", "configmap/other labeled")
	k.ok("get", "configmaps", "-l", "batch=1", "-o", "name").equals(t, "configmap/other\nconfigmap/tags")

	annotations := `{.metadata.annotations}`
	k.ok("annotate", "configmap", "tags", "note=hello").equals(t, "configmap/tags annotated")
	k.wantField("configmap tags", annotations, `{"note":"hello"}`)
	k.fails("annotate", "configmap", "tags", "note=bye").hasErr(t, "'note' already has a value (hello)")
	k.wantField("configmap tags", annotations, `{"note":"hello"}`)
	k.ok("annotate", "configmap", "tags", "note=bye", "--overwrite").equals(t, "configmap/tags annotated")
	k.wantField("configmap tags", annotations, `{"note":"bye"}`)
	k.ok("annotate", "configmap", "tags", "multi=line one\nline two").equals(t, "configmap/tags annotated")
	k.wantField("configmap tags", `{.metadata.annotations.multi}`, "line one\nline two")
	k.ok("annotate", "configmap", "tags", "note-", "multi-").equals(t, "configmap/tags annotated")
	if got := k.field("configmap tags", annotations); got != "" && got != "{}" {
		t.Errorf("annotations after removing all = %q, want none", got)
	}
	k.wantField("configmap tags", "{.data.a}", "b")
}

// testScale: kubectl scale through the scale subresource.
func testScale(t *testing.T, k *kubectl) {
	k.ok("create", "deployment", "web", "--image=nginx:1.27", "--replicas=1")
	k.ok("scale", "deployment", "web", "--replicas=3").equals(t, "deployment.apps/web scaled")
	k.wantField("deployment web", "{.spec.replicas} {.metadata.generation}", "3 2")
	k.wantField("deployment web --subresource=scale", "{.apiVersion} {.kind} {.spec.replicas} {.status.selector}", "autoscaling/v1 Scale 3 app=web")

	k.fails("scale", "deployment", "web", "--current-replicas=2", "--replicas=5").hasErr(t, "Expected replicas to be 2, was 3")
	k.wantField("deployment web", "{.spec.replicas}", "3")
	k.ok("scale", "deployment", "web", "--current-replicas=3", "--replicas=0").equals(t, "deployment.apps/web scaled")
	k.wantField("deployment web", "{.spec.replicas}", "0")

	k.okIn(`apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  serviceName: db
  replicas: 1
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      containers:
      - name: db
        image: busybox:1.36
`, "apply", "-f", "-")
	k.ok("scale", "statefulset", "db", "--replicas=2").equals(t, "statefulset.apps/db scaled")
	k.wantField("statefulset db", "{.spec.replicas}", "2")
	k.fails("scale", "deployment", "ghost", "--replicas=2", "-v=6").hasErr(t, "404 Not Found", "error: no objects passed to scale")
}
