package e2e

import (
	"regexp"
	"strings"
	"testing"
)

// testReplaceConflict: kubectl replace, and the 409 Conflict of a stale
// resourceVersion.
func testReplaceConflict(t *testing.T, k *kubectl) {
	k.okIn(settingsConfigMap, "apply", "-f", "-")
	stale := k.ok("get", "configmap", "settings", "-o", "yaml").stdout
	if !strings.Contains(stale, "resourceVersion:") {
		t.Fatalf("get -o yaml has no resourceVersion:\n%s", stale)
	}

	k.okIn(strings.Replace(stale, "mode: blue", "mode: green", 1), "replace", "-f", "-").equals(t, "configmap/settings replaced")
	k.wantField("configmap settings", "{.data.mode}", "green")

	// The first copy's resourceVersion is stale now.
	k.failsIn(strings.Replace(stale, "mode: blue", "mode: red", 1), "replace", "-f", "-", "-v=6").hasErr(t,
		"Error from server (Conflict)",
		`Operation cannot be fulfilled on configmaps "settings": the object has been modified; please apply your changes to the latest version and try again`,
		"409 Conflict")
	k.wantField("configmap settings", "{.data.mode}", "green")
	k.fails("label", "configmap", "settings", "x=y", "--resource-version="+resourceVersion(stale)).
		hasErr(t, "Error from server (Conflict)", `Operation cannot be fulfilled on configmaps "settings"`)
	k.wantField("configmap settings", "{.metadata.labels.x}", "")

	// Without a resourceVersion the update is unconditional.
	unconditional := regexp.MustCompile(`(?m)^  resourceVersion: .*\n`).ReplaceAllString(stale, "")
	k.okIn(strings.Replace(unconditional, "mode: blue", "mode: violet", 1), "replace", "-f", "-").equals(t, "configmap/settings replaced")
	k.wantField("configmap settings", "{.data.mode}", "violet")

	// --force deletes and recreates: a new uid.
	uid := k.field("configmap settings", "{.metadata.uid}")
	k.okIn(strings.Replace(settingsConfigMap, "mode: blue", "mode: forced", 1), "replace", "--force", "-f", "-").
		has(t, `configmap "settings" deleted`, "configmap/settings replaced")
	k.wantField("configmap settings", "{.data.mode}", "forced")
	if got := k.field("configmap settings", "{.metadata.uid}"); got == uid {
		t.Errorf("replace --force kept uid %s", uid)
	}

	ghost := strings.Replace(settingsConfigMap, "name: settings", "name: ghost", 1)
	k.failsIn(ghost, "replace", "-f", "-").hasErr(t, `Error from server (NotFound)`, `configmaps "ghost" not found`)

	// Two managers racing on one object through kubectl: the loser of an
	// optimistic update gets the conflict, the winner's write stays.
	k.ok("create", "deployment", "race", "--image=nginx:1.27")
	old := k.ok("get", "deployment", "race", "-o", "json").stdout
	k.ok("scale", "deployment", "race", "--replicas=4")
	k.failsIn(strings.Replace(old, `"replicas": 1`, `"replicas": 2`, 1), "replace", "-f", "-").
		hasErr(t, "Error from server (Conflict)", `Operation cannot be fulfilled on deployments.apps "race"`)
	k.wantField("deployment race", "{.spec.replicas}", "4")
}

// resourceVersion returns the metadata.resourceVersion of a YAML object.
func resourceVersion(yaml string) string {
	m := regexp.MustCompile(`(?m)^  resourceVersion: "?(\d+)"?$`).FindStringSubmatch(yaml)
	if m == nil {
		return ""
	}
	return m[1]
}

// testInvalid: an invalid object gets 422 Invalid, and the message names
// the field.
func testInvalid(t *testing.T, k *kubectl) {
	negative := strings.Replace(strings.Replace(webDeployment, "replicas: 1", "replicas: -1", 1), "name: web\n", "name: bad\n", 1)
	k.failsIn(negative, "apply", "-f", "-", "-v=6").hasErr(t,
		`The Deployment "bad" is invalid`,
		"spec.replicas: Invalid value: -1: must be greater than or equal to 0",
		"422 Unprocessable Entity")
	k.wantNotFound("deployment bad")

	noImage := strings.Replace(webDeployment, "        image: nginx:1.27\n", "", 1)
	k.failsIn(noImage, "create", "-f", "-").hasErr(t, `The Deployment "web" is invalid`, "spec.template.spec.containers[0].image: Required value")

	mismatch := strings.Replace(webDeployment, "      labels: {app: web}\n    spec:", "      labels: {app: other}\n    spec:", 1)
	k.failsIn(mismatch, "create", "-f", "-").hasErr(t, `The Deployment "web" is invalid`, "spec.template.metadata.labels: Invalid value",
		"`selector` does not match template `labels`")

	k.failsIn("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n", "create", "-f", "-").hasErr(t, `The ConfigMap "Bad_Name" is invalid`,
		`metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters`)
	badPort := "apiVersion: v1\nkind: Service\nmetadata:\n  name: svc\nspec:\n  ports:\n  - port: 70000\n"
	k.failsIn(badPort, "create", "-f", "-").hasErr(t, `The Service "svc" is invalid`, "spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive")
	badLabel := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lbl\n  labels: {\"bad key!\": x}\n"
	k.failsIn(badLabel, "create", "-f", "-").hasErr(t, `The ConfigMap "lbl" is invalid`, `metadata.labels: Invalid value: "bad key!"`)

	// Immutable fields.
	k.okIn(webDeployment, "apply", "-f", "-")
	k.fails("patch", "deployment", "web", "--type=merge", "-p", `{"spec":{"selector":{"matchLabels":{"app":"new"}},"template":{"metadata":{"labels":{"app":"new"}}}}}`).
		hasErr(t, `The Deployment "web" is invalid`, "spec.selector: Invalid value", "field is immutable")
	k.ok("create", "job", "j", "--image=busybox:1.36")
	k.fails("patch", "job", "j", "--type=json", "-p", `[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"busybox:1.37"}]`).
		hasErr(t, `The Job "j" is invalid`, "spec.template: Invalid value", "field is immutable")
	k.ok("create", "configmap", "frozen", "--from-literal=a=b")
	k.ok("patch", "configmap", "frozen", "--type=merge", "-p", `{"immutable":true}`)
	k.fails("patch", "configmap", "frozen", "--type=merge", "-p", `{"data":{"a":"c"}}`).
		hasErr(t, `The ConfigMap "frozen" is invalid`, "data: Forbidden: field is immutable when `immutable` is set")

	// Unknown fields fail strict field validation, which kubectl asks for.
	unknown := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: typo\ndata: {a: b}\nspec: {x: y}\n"
	k.failsIn(unknown, "create", "-f", "-").hasErr(t, `unknown field "spec"`)
	k.wantNotFound("configmap typo")
	k.okIn(unknown, "create", "--validate=false", "-f", "-").equals(t, "configmap/typo created")
	warned := strings.Replace(unknown, "name: typo", "name: warned", 1)
	k.okIn(warned, "create", "--validate=warn", "-f", "-").hasErr(t, `unknown field "spec"`)
	k.wantField("configmap warned", "{.data.a}", "b")

	// One invalid document does not stop the others; kubectl exits 1.
	mixed := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: good\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n"
	r := k.failsIn(mixed, "apply", "-f", "-")
	r.has(t, "configmap/good created")
	r.hasErr(t, `The ConfigMap "Bad_Name" is invalid`)
	k.wantField("configmap good", "{.metadata.name}", "good")
}
