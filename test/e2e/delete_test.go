package e2e

import (
	"strings"
	"testing"
	"time"
)

// heldConfigMap has a finalizer nobody removes but the test.
func heldConfigMap(name string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n  finalizers: [e2e.tug.dev/hold]\n"
}

// release removes obj's finalizers.
func release(k *kubectl, obj string) {
	k.t.Helper()
	k.ok(append(append([]string{"patch"}, strings.Fields(obj)...), "--type=json", "-p", `[{"op":"remove","path":"/metadata/finalizers"}]`)...)
}

// testDelete: kubectl delete by name, by label, --all, --wait and
// finalizers, namespaces.
func testDelete(t *testing.T, k *kubectl) {
	for _, name := range []string{"a", "l1", "l2", "l3"} {
		k.ok("create", "configmap", name)
	}
	k.ok("delete", "configmap", "a").matches(t, `^configmap "a" deleted`)
	k.wantNotFound("configmap a")
	k.fails("delete", "configmap", "a").hasErr(t, `Error from server (NotFound): configmaps "a" not found`)
	k.ok("delete", "configmap", "a", "--ignore-not-found").equals(t, "")

	// -l deletes what matches, nothing else.
	k.ok("label", "configmap", "l1", "l2", "grp=x")
	r := k.ok("delete", "configmaps", "-l", "grp=x").matches(t, `^configmap "l1" deleted`, `^configmap "l2" deleted`)
	if n := len(r.rows()); n != 2 {
		t.Errorf("delete -l grp=x: %d lines, want 2:\n%s", n, r)
	}
	k.wantNotFound("configmap l1")
	k.wantField("configmap l3", "{.metadata.name}", "l3")

	// --all deletes every object of the kind in the namespace.
	k.ok("create", "secret", "generic", "s1", "--from-literal=a=b")
	k.ok("create", "secret", "generic", "s2", "--from-literal=a=b")
	k.ok("delete", "secrets", "--all").matches(t, `^secret "s1" deleted`, `^secret "s2" deleted`)
	k.ok("get", "secrets", "-o", "name").equals(t, "")

	// A finalizer holds the object: --wait times out, --wait=false does
	// not wait, and removing the finalizer completes the deletion.
	k.okIn(heldConfigMap("held"), "apply", "-f", "-")
	k.fails("delete", "configmap", "held", "--timeout=2s").hasErr(t, "timed out waiting for the condition on configmaps/held")
	if ts := k.field("configmap held", "{.metadata.deletionTimestamp}"); ts == "" {
		t.Errorf("configmap held: no deletionTimestamp after delete")
	}
	k.wantField("configmap held", "{.metadata.finalizers}", `["e2e.tug.dev/hold"]`)
	start := time.Now()
	k.ok("delete", "configmap", "held", "--wait=false").matches(t, `^configmap "held" deleted`)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("delete --wait=false took %v", d)
	}
	w := k.start("delete", "configmap", "held", "--wait=true", "--timeout=30s", "-v=6")
	if !w.waitStderr("DELETE") { // the request was answered; kubectl now waits
		return
	}
	release(k, "configmap held")
	if r, ok := w.wait(40 * time.Second); ok && r.code != 0 {
		t.Errorf("delete --wait of a released object failed:\n%s", r)
	}
	k.wantNotFound("configmap held")

	// A pod with no node goes at once.
	k.ok("run", "sleeper", "--image=busybox:1.36", "--restart=Never", "--", "sleep", "3600").has(t, "pod/sleeper created")
	k.ok("delete", "pod", "sleeper", "--timeout=30s").matches(t, `^pod "sleeper" deleted`)
	k.wantNotFound("pod sleeper")

	k.ok("run", "forced", "--image=busybox:1.36", "--restart=Never", "--", "sleep", "3600")
	k.ok("delete", "pod", "forced", "--grace-period=0", "--force").
		matches(t, `^pod "forced" force deleted`)
	k.wantNotFound("pod forced")

	// Deleting a namespace deletes what is in it, then the namespace.
	ns := k.ns + "-gone"
	k.ok("create", "namespace", ns)
	k.ok("-n", ns, "create", "configmap", "inside")
	k.ok("-n", ns, "create", "deployment", "inside", "--image=nginx:1.27")
	k.ok("delete", "namespace", ns, "--timeout=60s").matches(t, `^namespace "`+ns+`" deleted`)
	k.wantNotFound("namespace " + ns)
	k.ok("-n", ns, "get", "configmaps,deployments", "-o", "name").equals(t, "")
	k.fails("-n", ns, "create", "configmap", "late").hasErr(t, `namespaces "`+ns+`" not found`)

	// A namespace whose content is held by a finalizer stays Terminating
	// and refuses new content until the content is gone.
	held := k.ns + "-held"
	k.ok("create", "namespace", held)
	k.okIn(heldConfigMap("pin"), "apply", "-n", held, "-f", "-")
	k.ok("delete", "namespace", held, "--wait=false").matches(t, `^namespace "`+held+`" deleted`)
	k.wantField("namespace "+held, "{.status.phase}", "Terminating")
	k.ok("get", "namespace", held).matches(t, `^`+held+`\s+Terminating\s+\S+$`)
	k.eventually("namespace controller deletes the held config map", func() (bool, string) {
		r := k.ok("-n", held, "get", "configmap", "pin", "-o", "jsonpath={.metadata.deletionTimestamp}")
		return r.stdout != "", r.String()
	})
	k.failsIn("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: late\n", "-n", held, "create", "-f", "-").
		hasErr(t, "Error from server (Forbidden)", "unable to create new content in namespace "+held+" because it is being terminated")
	release(k, "-n "+held+" configmap pin")
	k.eventually("terminating namespace goes once empty", func() (bool, string) {
		r := k.run("get", "namespace", held)
		return r.code != 0 && strings.Contains(r.stderr, "(NotFound)"), r.String()
	})
}

// owned is a config map owned by the config map owner with uid.
func owned(name, owner, uid string, block bool) string {
	b := "false"
	if block {
		b = "true"
	}
	return `apiVersion: v1
kind: ConfigMap
metadata:
  name: ` + name + `
  ownerReferences:
  - apiVersion: v1
    kind: ConfigMap
    name: ` + owner + `
    uid: ` + uid + `
    blockOwnerDeletion: ` + b + `
data: {a: b}
`
}

// family creates a config map and a dependent it owns.
func family(k *kubectl, owner, dependent string, block bool) {
	k.t.Helper()
	k.ok("create", "configmap", owner)
	uid := k.field("configmap "+owner, "{.metadata.uid}")
	k.okIn(owned(dependent, owner, uid, block), "apply", "-f", "-")
}

// testDeleteCascade: kubectl delete --cascade=orphan|background|foreground
// with the garbage collector following ownerReferences.
func testDeleteCascade(t *testing.T, k *kubectl) {
	// orphan: the dependent stays, its owner reference removed.
	family(k, "o-owner", "o-dep", true)
	k.ok("delete", "configmap", "o-owner", "--cascade=orphan", "--timeout=30s").matches(t, `^configmap "o-owner" deleted`)
	k.wantNotFound("configmap o-owner")
	k.eventually("orphaned dependent loses its owner reference", func() (bool, string) {
		r := k.ok("get", "configmap", "o-dep", "-o", "jsonpath={.metadata.ownerReferences}")
		return r.stdout == "", r.String()
	})
	time.Sleep(2 * time.Second) // the collector had its chance to delete it
	k.wantField("configmap o-dep", "{.data.a}", "b")

	// background: the owner goes at once, the collector deletes the
	// dependent afterwards.
	family(k, "b-owner", "b-dep", false)
	k.ok("delete", "configmap", "b-owner", "--cascade=background").matches(t, `^configmap "b-owner" deleted`)
	k.wantNotFound("configmap b-owner")
	k.eventually("dependent of a background deletion is deleted", func() (bool, string) {
		r := k.run("get", "configmap", "b-dep")
		return r.code != 0 && strings.Contains(r.stderr, "(NotFound)"), r.String()
	})

	// foreground: the owner stays, with the foregroundDeletion finalizer,
	// until its blocking dependents are gone.
	family(k, "f-owner", "f-dep", true)
	k.ok("patch", "configmap", "f-dep", "--type=merge", "-p", `{"metadata":{"finalizers":["e2e.tug.dev/hold"]}}`)
	k.ok("delete", "configmap", "f-owner", "--cascade=foreground", "--wait=false").matches(t, `^configmap "f-owner" deleted`)
	k.wantField("configmap f-owner", "{.metadata.finalizers}", `["foregroundDeletion"]`)
	k.eventually("collector deletes the blocking dependent", func() (bool, string) {
		r := k.ok("get", "configmap", "f-dep", "-o", "jsonpath={.metadata.deletionTimestamp}")
		return r.stdout != "", r.String()
	})
	k.wantField("configmap f-owner", "{.metadata.name}", "f-owner")
	release(k, "configmap f-dep")
	k.eventually("owner goes once its dependents are gone", func() (bool, string) {
		r := k.run("get", "configmap", "f-owner")
		return r.code != 0 && strings.Contains(r.stderr, "(NotFound)"), r.String()
	})
	k.wantNotFound("configmap f-dep")

	// Deleting a deployment (background, kubectl's default) deletes the
	// replica sets it controls.
	k.okIn(webDeployment, "apply", "-f", "-")
	uid := k.field("deployment web", "{.metadata.uid}")
	k.okIn(`apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-1
  ownerReferences:
  - {apiVersion: apps/v1, kind: Deployment, name: web, uid: `+uid+`, controller: true, blockOwnerDeletion: true}
spec:
  replicas: 0
  selector:
    matchLabels: {app: web, pod-template-hash: "1"}
  template:
    metadata:
      labels: {app: web, pod-template-hash: "1"}
    spec:
      containers:
      - name: web
        image: nginx:1.27
`, "apply", "-f", "-")
	k.ok("delete", "deployment", "web").matches(t, `^deployment.apps "web" deleted`)
	k.eventually("replica set of a deleted deployment is deleted", func() (bool, string) {
		r := k.run("get", "replicaset", "web-1")
		return r.code != 0 && strings.Contains(r.stderr, "(NotFound)"), r.String()
	})

	// foreground with --wait: when kubectl returns, the dependents are
	// already gone.
	family(k, "w-owner", "w-dep", true)
	k.ok("delete", "configmap", "w-owner", "--cascade=foreground", "--wait=true", "--timeout=30s").matches(t, `^configmap "w-owner" deleted`)
	k.wantNotFound("configmap w-dep")
	k.wantNotFound("configmap w-owner")
}
