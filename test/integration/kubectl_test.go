package integration

import (
	"strings"
	"testing"

	"github.com/tugcluster/tug/internal/testutil"
)

const manifest = `apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
  labels:
    app: demo
data:
  mode: blue
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: demo
spec:
  replicas: 2
  selector:
    matchLabels:
      app: demo
  template:
    metadata:
      labels:
        app: demo
    spec:
      containers:
      - name: web
        image: nginx:1.27
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: demo
  ports:
  - port: 80
`

// TestKubectl drives a server with the newest and the oldest supported
// kubectl.
func TestKubectl(t *testing.T) {
	for _, minor := range []string{"1.33", "1.30"} {
		t.Run(minor, func(t *testing.T) {
			s := testutil.StartServer(t)
			kubectl := testutil.Kubectl(t, minor)
			run := func(stdin string, args ...string) string {
				t.Helper()
				out, err := s.RunKubectl(t, kubectl, stdin, args...)
				if err != nil {
					t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
				}
				return out
			}
			expect := func(out string, wants ...string) {
				t.Helper()
				for _, want := range wants {
					if !strings.Contains(out, want) {
						t.Errorf("output lacks %q:\n%s", want, out)
					}
				}
			}
			expect(run("", "get", "namespaces"), "NAME", "STATUS", "AGE", "default", "kube-system", "kube-node-lease")
			expect(run("", "api-versions"), "apps/v1", "batch/v1", "rbac.authorization.k8s.io/v1")
			expect(run("", "api-resources"), "pods", "po", "deployments", "deploy")
			expect(run(manifest, "apply", "-f", "-"), "configmap/app-config created", "deployment.apps/web created", "service/web created")
			expect(run(strings.Replace(manifest, "mode: blue", "mode: green", 1), "apply", "-f", "-"),
				"configmap/app-config configured", "deployment.apps/web unchanged")
			expect(run("", "get", "configmap", "app-config", "-o", "jsonpath={.data.mode}"), "green")
			expect(run("", "get", "deployments"), "NAME", "READY", "UP-TO-DATE", "AVAILABLE", "web")
			expect(run("", "get", "cm", "-l", "app=demo", "-o", "name"), "configmap/app-config")
			expect(run("", "create", "configmap", "extra", "--from-literal=a=b"), "configmap/extra created")
			expect(run("", "label", "configmap", "extra", "tier=x"), "configmap/extra labeled")
			expect(run("", "annotate", "configmap", "extra", "note=hello"), "configmap/extra annotated")
			expect(run("", "get", "configmap", "extra", "-o", "yaml"), "tier: x", "note: hello", "a: b")
			expect(run("", "get", "configmaps", "--chunk-size=1"), "app-config", "extra")
			expect(run("", "auth", "can-i", "create", "pods"), "yes")

			// Server-side apply: create, conflict with another manager, force.
			ssa := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  owner: first\n"
			expect(run(ssa, "apply", "--server-side", "--field-manager=first", "-f", "-"), "configmap/ssa serverside-applied")
			conflicting := strings.Replace(ssa, "owner: first", "owner: second", 1)
			out, err := s.RunKubectl(t, kubectl, conflicting, "apply", "--server-side", "--field-manager=second", "-f", "-")
			if err == nil || !strings.Contains(out, "conflict") {
				t.Errorf("conflicting apply: %v\n%s", err, out)
			}
			expect(run(conflicting, "apply", "--server-side", "--field-manager=second", "--force-conflicts", "-f", "-"), "serverside-applied")
			expect(run("", "get", "configmap", "ssa", "-o", "yaml", "--show-managed-fields"), "owner: second", "manager: second", "operation: Apply")
			expect(run("", "delete", "configmap", "extra"), `configmap "extra" deleted`)
			out, err = s.RunKubectl(t, kubectl, "", "get", "configmap", "extra")
			if err == nil || !strings.Contains(out, "NotFound") {
				t.Errorf("get after delete: %v\n%s", err, out)
			}
		})
	}
}
