package openapi

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tugcluster/tug/internal/apiserver/discovery"
	"github.com/tugcluster/tug/internal/apiserver/resources"
)

// TestKubectlExplain runs the real kubectl explain against discovery and
// these documents, when kubectl is installed.
func TestKubectlExplain(t *testing.T) {
	kubectl := serveKubectl(t, newBuiltin(t), resources.Builtin())
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{
			args: []string{"explain", "pods"},
			want: []string{"KIND:       Pod", "VERSION:    v1", "collection of containers",
				"spec\t<PodSpec>", "Specification of the desired behavior of the pod"},
		},
		{
			args: []string{"explain", "pods.spec.containers.ports"},
			want: []string{"FIELD: ports <[]ContainerPort>", "containerPort\t<integer> -required-",
				"Number of port to expose on the pod's IP address"},
		},
		{
			args: []string{"explain", "deployments.spec.strategy.rollingUpdate"},
			want: []string{"GROUP:      apps", "maxSurge\t<IntOrString>"},
		},
		{
			args: []string{"explain", "pods.spec.containers.resources.limits"},
			want: []string{"FIELD: limits <map[string]Quantity>"},
		},
		{
			args: []string{"explain", "configmaps.metadata.creationTimestamp"},
			want: []string{"FIELD: creationTimestamp <string>", "CreationTimestamp is a timestamp"},
		},
		{
			args: []string{"explain", "clusterroles", "--recursive"},
			want: []string{"GROUP:      rbac.authorization.k8s.io", "rules\t<[]PolicyRule>", "verbs\t<[]string> -required-"},
		},
		{
			args: []string{"explain", "customresourcedefinitions.spec.versions.schema"},
			want: []string{"GROUP:      apiextensions.k8s.io", "openAPIV3Schema\t<JSONSchemaProps>"},
		},
		{
			args: []string{"explain", "pods.spec", "--output=plaintext-openapiv2"},
			want: []string{"RESOURCE: spec <Object>", "containers\t<[]Object> -required-"},
		},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, err := kubectl(tc.args...)
			if err != nil {
				t.Fatalf("kubectl %v: %v\n%s", tc.args, err, out)
			}
			for _, want := range tc.want {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

// serveKubectl serves discovery of rs and o's documents, and returns a
// function that runs the real kubectl against them; it skips the test
// when kubectl is not installed.
func serveKubectl(t *testing.T, o *OpenAPI, rs []resources.Resource) func(args ...string) (string, error) {
	t.Helper()
	kubectl, err := exec.LookPath("kubectl")
	if err != nil || testing.Short() {
		t.Skip("needs kubectl on PATH and no -short")
	}
	disco, err := discovery.New(rs, "127.0.0.1:6443")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case o.Handles(r.URL.Path):
			o.ServeHTTP(w, r)
		case disco.Handles(r.URL.Path):
			disco.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)

	home := t.TempDir()
	kubeconfig := filepath.Join(home, "kubeconfig")
	config := "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: " + srv.URL +
		"\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  user: {}\ncurrent-context: c\n"
	if err := os.WriteFile(kubeconfig, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return func(args ...string) (string, error) {
		cmd := exec.Command(kubectl, append(args, "--kubeconfig", kubeconfig, "--cache-dir", filepath.Join(home, "cache"))...)
		cmd.Env = append(os.Environ(), "HOME="+home)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
}
