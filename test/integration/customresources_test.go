package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/tugcluster/tug/internal/testutil"
)

// widgetCRD is namespaced, stores v1 (with the status and scale
// subresources) and also serves v2 (without them). Its schema is what the
// schema tests check; every object the other tests write is valid for it.
const widgetCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd], categories: [all]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas, labelSelectorPath: .status.selector}
    additionalPrinterColumns:
    - {name: Color, type: string, jsonPath: .spec.color}
    - {name: Replicas, type: integer, jsonPath: .spec.replicas}
    - {name: Size, type: integer, jsonPath: .spec.size, priority: 1}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
    schema: &schema
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [color]
            properties:
              color: {type: string, enum: [red, green, blue]}
              replicas: {type: integer}
              size: {type: integer, default: 3}
              extra: {type: object, x-kubernetes-preserve-unknown-fields: true}
          status:
            type: object
            properties:
              replicas: {type: integer}
              selector: {type: string}
  - name: v2
    served: true
    storage: false
    schema: *schema
`

// gadgetCRD is cluster-scoped, with one version and no subresources.
const gadgetCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.example.com
spec:
  group: example.com
  scope: Cluster
  names: {plural: gadgets, kind: Gadget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
`

var (
	widgetsV1 = schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}
	widgetsV2 = schema.GroupVersionResource{Group: "example.com", Version: "v2", Resource: "widgets"}
	gadgetsV1 = schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "gadgets"}
)

// crdServer is a tug server with clients for custom resources.
type crdServer struct {
	*testutil.Server
	dyn dynamic.Interface
	ext apiextensionsclient.Interface
}

func startCRDServer(t *testing.T) *crdServer {
	t.Helper()
	s := testutil.StartServer(t)
	return &crdServer{Server: s, dyn: dynamic.NewForConfigOrDie(s.Config), ext: apiextensionsclient.NewForConfigOrDie(s.Config)}
}

// kubectl runs kubectl and fails the test if it fails.
func (s *crdServer) kubectl(t *testing.T, kubectl, stdin string, args ...string) string {
	t.Helper()
	out, err := s.RunKubectl(t, kubectl, stdin, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// kubectlFails runs kubectl and fails the test unless it fails.
func (s *crdServer) kubectlFails(t *testing.T, kubectl, stdin string, args ...string) string {
	t.Helper()
	out, err := s.RunKubectl(t, kubectl, stdin, args...)
	if err == nil {
		t.Errorf("kubectl %s succeeded, want an error:\n%s", strings.Join(args, " "), out)
	}
	return out
}

// applyCRD creates a CRD with kubectl and waits until it is established.
func (s *crdServer) applyCRD(t *testing.T, manifest, name string) {
	t.Helper()
	k := testutil.Kubectl(t, "1.33")
	contains(t, s.kubectl(t, k, manifest, "apply", "-f", "-"), "customresourcedefinition.apiextensions.k8s.io/"+name+" created")
	contains(t, s.kubectl(t, k, "", "wait", "--for", "condition=established", "--timeout=30s", "crd/"+name),
		"customresourcedefinition.apiextensions.k8s.io/"+name+" condition met")
}

func contains(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// widget is a Widget of v1 named name in namespace ns.
func widget(ns, name, color string, replicas int64) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "example.com/v1", "kind": "Widget",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec":     map[string]any{"color": color, "replicas": replicas},
	}}
}

func nested[T any](t *testing.T, u *unstructured.Unstructured, fields ...string) T {
	t.Helper()
	v, _, _ := unstructured.NestedFieldNoCopy(u.Object, fields...)
	out, _ := v.(T)
	return out
}

// rawRequest sends one request with s's credentials and returns the
// status, the Content-Type and the body.
func (s *crdServer) rawRequest(t *testing.T, method, path, accept, contentType, body string) (int, string, []byte) {
	t.Helper()
	hc, err := rest.HTTPClientFor(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", accept)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), data
}

// TestCustomResourceDefinitionLifecycle checks that applied CRDs are
// established with their names accepted and show in discovery.
func TestCustomResourceDefinitionLifecycle(t *testing.T) {
	s := startCRDServer(t)
	ctx := context.Background()
	k := testutil.Kubectl(t, "1.33")
	s.applyCRD(t, widgetCRD, "widgets.example.com")
	crd, err := s.ext.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, "widgets.example.com", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	names := crd.Status.AcceptedNames
	if names.Plural != "widgets" || names.Singular != "widget" || names.Kind != "Widget" || names.ListKind != "WidgetList" ||
		!slices.Equal(names.ShortNames, []string{"wd"}) || !slices.Equal(names.Categories, []string{"all"}) {
		t.Errorf("accepted names %+v", names)
	}
	if !slices.Equal(crd.Status.StoredVersions, []string{"v1"}) {
		t.Errorf("stored versions %v, want [v1]", crd.Status.StoredVersions)
	}
	for _, cond := range []apiextensionsv1.CustomResourceDefinitionConditionType{apiextensionsv1.Established, apiextensionsv1.NamesAccepted} {
		if i := slices.IndexFunc(crd.Status.Conditions, func(c apiextensionsv1.CustomResourceDefinitionCondition) bool { return c.Type == cond }); i < 0 ||
			crd.Status.Conditions[i].Status != apiextensionsv1.ConditionTrue {
			t.Errorf("condition %s not true: %+v", cond, crd.Status.Conditions)
		}
	}
	if crd.Spec.Conversion == nil || crd.Spec.Conversion.Strategy != apiextensionsv1.NoneConverter {
		t.Errorf("conversion %+v, want the None strategy by default", crd.Spec.Conversion)
	}

	// v2 sorts before v1 (Kubernetes-aware version order) and is preferred.
	resources := s.kubectl(t, k, "", "api-resources")
	if !regexp.MustCompile(`(?m)^widgets\s+wd\s+example\.com/v2\s+true\s+Widget\s*$`).MatchString(resources) {
		t.Errorf("api-resources lacks widgets:\n%s", resources)
	}
	contains(t, s.kubectl(t, k, "", "api-versions"), "example.com/v1\n", "example.com/v2\n")
	for gv, want := range map[string][]string{
		"example.com/v1": {"widgets", "widgets/scale", "widgets/status"},
		"example.com/v2": {"widgets"},
	} {
		list, err := s.Client.Discovery().ServerResourcesForGroupVersion(gv)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range list.APIResources {
			got = append(got, r.Name)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s resources %v, want %v", gv, got, want)
		}
	}

	s.applyCRD(t, gadgetCRD, "gadgets.example.com")
	resources = s.kubectl(t, k, "", "api-resources", "--api-group=example.com")
	if !regexp.MustCompile(`(?m)^gadgets\s+example\.com/v1\s+false\s+Gadget\s*$`).MatchString(resources) {
		t.Errorf("api-resources lacks gadgets:\n%s", resources)
	}
	contains(t, s.kubectl(t, k, "apiVersion: example.com/v1\nkind: Gadget\nmetadata:\n  name: g1\nspec:\n  size: 2\n", "apply", "-f", "-"),
		"gadget.example.com/g1 created")
	if out := s.kubectl(t, k, "", "get", "gadget", "g1", "-o", "jsonpath={.metadata.namespace}|{.spec.size}|{.kind}"); out != "|2|Gadget" {
		t.Errorf("cluster-scoped gadget: %q", out)
	}
	contains(t, s.kubectl(t, k, "", "get", "crd"), "widgets.example.com", "gadgets.example.com")
}

// TestCustomResourceDefinitionValidation checks that CRDs that cannot be
// served are refused with 422 naming the field.
func TestCustomResourceDefinitionValidation(t *testing.T) {
	s := startCRDServer(t)
	ctx := context.Background()
	valid := func() *apiextensionsv1.CustomResourceDefinition {
		return &apiextensionsv1.CustomResourceDefinition{
			ObjectMeta: metav1.ObjectMeta{Name: "things.example.com"},
			Spec: apiextensionsv1.CustomResourceDefinitionSpec{
				Group: "example.com", Scope: apiextensionsv1.NamespaceScoped,
				Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: "things", Kind: "Thing"},
				Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
					Name: "v1", Served: true, Storage: true,
					Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{Type: "object"}},
				}},
			},
		}
	}
	for _, tc := range []struct {
		name   string
		change func(*apiextensionsv1.CustomResourceDefinition)
		want   string
	}{
		{"name not plural.group", func(c *apiextensionsv1.CustomResourceDefinition) { c.Name = "thing.example.com" },
			`metadata.name: Invalid value: "thing.example.com": must be spec.names.plural+"."+spec.group`},
		{"no storage version", func(c *apiextensionsv1.CustomResourceDefinition) { c.Spec.Versions[0].Storage = false },
			"must have exactly one version marked as storage version"},
		{"two storage versions", func(c *apiextensionsv1.CustomResourceDefinition) {
			v2 := c.Spec.Versions[0]
			v2.Name = "v2"
			c.Spec.Versions = append(c.Spec.Versions, v2)
		}, "must have exactly one version marked as storage version"},
		{"missing schema", func(c *apiextensionsv1.CustomResourceDefinition) { c.Spec.Versions[0].Schema = nil },
			"spec.versions[0].schema.openAPIV3Schema: Required value"},
		{"group without a dot", func(c *apiextensionsv1.CustomResourceDefinition) { c.Spec.Group, c.Name = "example", "things.example" },
			`spec.group: Invalid value: "example": should be a domain with at least one dot`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			crd := valid()
			tc.change(crd)
			_, err := s.ext.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, crd, metav1.CreateOptions{})
			if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("create: %v, want 422 Invalid with %q", err, tc.want)
			}
			if tc.name == "no storage version" || tc.name == "two storage versions" {
				if !strings.Contains(err.Error(), "spec.versions: Invalid value") {
					t.Errorf("error %v does not name spec.versions", err)
				}
			}
		})
	}
	if _, err := s.ext.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, valid(), metav1.CreateOptions{}); err != nil {
		t.Fatalf("the valid CRD: %v", err)
	}
}

// TestCustomResourceKubectl drives custom resources with the newest and
// the oldest supported kubectl, each in its own namespace.
func TestCustomResourceKubectl(t *testing.T) {
	s := startCRDServer(t)
	s.applyCRD(t, widgetCRD, "widgets.example.com")
	for _, minor := range []string{"1.33", "1.30"} {
		t.Run(minor, func(t *testing.T) {
			k := testutil.Kubectl(t, minor)
			ns := "k" + strings.ReplaceAll(minor, ".", "")
			run := func(stdin string, args ...string) string {
				t.Helper()
				return s.kubectl(t, k, stdin, append([]string{"-n", ns}, args...)...)
			}
			// try is run for steps whose failure does not stop the rest.
			try := func(stdin string, args ...string) string {
				t.Helper()
				out, err := s.RunKubectl(t, k, stdin, append([]string{"-n", ns}, args...)...)
				if err != nil {
					t.Errorf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
				}
				return out
			}
			fails := func(stdin string, args ...string) string {
				t.Helper()
				return s.kubectlFails(t, k, stdin, append([]string{"-n", ns}, args...)...)
			}
			get := func(jsonpath string, what ...string) string {
				t.Helper()
				return run("", append(append([]string{"get"}, what...), "-o", "jsonpath="+jsonpath)...)
			}
			run("", "create", "namespace", ns)

			wd1 := "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: wd1\n  labels: {app: demo}\nspec:\n  color: red\n  replicas: 1\n"
			contains(t, run(wd1, "apply", "-f", "-"), "widget.example.com/wd1 created")
			green := strings.Replace(wd1, "color: red", "color: green", 1)
			contains(t, try(green, "apply", "-f", "-"), "widget.example.com/wd1 configured")
			contains(t, try(green, "apply", "-f", "-"), "widget.example.com/wd1 unchanged")
			for _, name := range []string{"wd", "widget", "widgets", "Widget", "widget.example.com", "widgets.example.com",
				"widgets.v1.example.com", "widgets.v2.example.com"} {
				if out := run("", "get", name, "wd1", "-o", "name"); out != "widget.example.com/wd1\n" {
					t.Errorf("get %s wd1 -o name: %q", name, out)
				}
			}
			contains(t, run("", "get", "widgets", "-o", "yaml"), "apiVersion: example.com/v2", "kind: Widget\n", "color: green", "name: wd1")
			contains(t, run("", "get", "widgets.v1.example.com", "wd1", "-o", "json"), `"apiVersion": "example.com/v1"`, `"color": "green"`)
			if out := get("{.spec.color}", "wd", "wd1"); out != "green" {
				t.Errorf("jsonpath color %q, want green", out)
			}
			contains(t, run("", "get", "all"), "widget.example.com/wd1")
			contains(t, run("", "label", "wd", "wd1", "tier=x"), "widget.example.com/wd1 labeled")
			contains(t, run("", "annotate", "wd", "wd1", "note=hello"), "widget.example.com/wd1 annotated")
			if out := get("{.metadata.labels.tier}/{.metadata.annotations.note}", "wd", "wd1"); out != "x/hello" {
				t.Errorf("label and annotation %q", out)
			}
			contains(t, run("", "patch", "wd", "wd1", "--type", "merge", "-p", `{"spec":{"color":"blue"}}`), "widget.example.com/wd1 patched")
			contains(t, run("", "patch", "wd", "wd1", "--type", "json", "-p", `[{"op":"replace","path":"/spec/replicas","value":3}]`),
				"widget.example.com/wd1 patched")
			if out := get("{.spec.color}/{.spec.replicas}", "wd", "wd1"); out != "blue/3" {
				t.Errorf("after patches %q, want blue/3", out)
			}
			// kubectl patches with a strategic merge patch by default: 415.
			contains(t, fails("", "patch", "wd", "wd1", "-p", `{"spec":{"color":"red"}}`),
				"the body of the request was in an unknown format - accepted media types include: "+
					"application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml")

			editor := filepath.Join(t.TempDir(), "editor.sh")
			if err := os.WriteFile(editor, []byte("#!/bin/sh\nsed -i 's/color: blue/color: red/' \"$1\"\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			t.Setenv("KUBE_EDITOR", editor)
			contains(t, run("", "edit", "wd", "wd1"), "widget.example.com/wd1 edited")
			if out := get("{.spec.color}", "wd", "wd1"); out != "red" {
				t.Errorf("after edit %q, want red", out)
			}
			watchKubectl(t, s, k, ns, func() { run("", "patch", "wd", "wd1", "--type", "merge", "-p", `{"spec":{"color":"green"}}`) })

			// Server-side apply, twice, then a conflict with another manager.
			wd2 := "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: wd2\nspec:\n  color: red\n  replicas: 1\n"
			contains(t, run(wd2, "apply", "--server-side", "--field-manager=first", "-f", "-"), "widget.example.com/wd2 serverside-applied")
			contains(t, run(wd2, "apply", "--server-side", "--field-manager=first", "-f", "-"), "widget.example.com/wd2 serverside-applied")
			blue := strings.Replace(wd2, "color: red", "color: blue", 1)
			contains(t, fails(blue, "apply", "--server-side", "--field-manager=second", "-f", "-"), "conflict", `"first"`, ".spec.color")
			contains(t, run(blue, "apply", "--server-side", "--field-manager=second", "--force-conflicts", "-f", "-"), "serverside-applied")
			contains(t, run("", "get", "wd", "wd2", "-o", "yaml", "--show-managed-fields"), "color: blue", "manager: second", "operation: Apply")

			wd3 := strings.ReplaceAll(wd2, "wd2", "wd3")
			contains(t, run(wd3, "create", "--dry-run=server", "-f", "-"), "widget.example.com/wd3 created (server dry run)")
			contains(t, fails("", "get", "wd", "wd3"), "NotFound")
			contains(t, run("", "delete", "wd", "wd1", "--dry-run=server"), `widget.example.com "wd1" deleted (server dry run)`)
			run("", "get", "wd", "wd1")
			contains(t, run("", "delete", "wd", "wd1"), `widget.example.com "wd1" deleted`)
			contains(t, fails("", "get", "wd", "wd1"), "NotFound")
		})
	}
}

// watchKubectl runs kubectl get -w on wd1, which is red, and checks that
// it sees change make it green.
func watchKubectl(t *testing.T, s *crdServer, kubectl, ns string, change func()) {
	t.Helper()
	cmd := exec.Command(kubectl, "--kubeconfig", s.Kubeconfig, "-n", ns, "get", "wd", "wd1", "-w", "-o", `jsonpath={.spec.color}{"\n"}`)
	cmd.Env = append(os.Environ(), "HOME="+s.DataDir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	deadline := time.After(20 * time.Second)
	for _, want := range []string{"red", "green"} {
		select {
		case line, ok := <-lines:
			if !ok || line != want {
				t.Fatalf("kubectl get -w printed %q (open %v), want %q", line, ok, want)
			}
		case <-deadline:
			t.Fatalf("kubectl get -w did not print %q", want)
		}
		if want == "red" {
			change()
		}
	}
}

// TestCustomResourceCleanup checks that a namespace's deletion deletes its
// custom resources and a CRD's deletion all of its objects first.
func TestCustomResourceCleanup(t *testing.T) {
	s := startCRDServer(t)
	ctx := context.Background()
	s.applyCRD(t, widgetCRD, "widgets.example.com")
	s.applyCRD(t, gadgetCRD, "gadgets.example.com")
	for _, ns := range []string{"doomed", "other"} {
		if _, err := s.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, ns := range []string{"doomed", "other", "default"} {
		if _, err := s.dyn.Resource(widgetsV1).Namespace(ns).Create(ctx, widget(ns, "w-"+ns, "red", 1), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.dyn.Resource(gadgetsV1).Create(ctx, &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": map[string]any{"name": "g"}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	if err := s.Client.CoreV1().Namespaces().Delete(ctx, "doomed", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "namespace doomed deleted", func() (bool, error) {
		_, err := s.Client.CoreV1().Namespaces().Get(ctx, "doomed", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	all, err := s.dyn.Resource(widgetsV1).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, item := range all.Items {
		left = append(left, item.GetNamespace()+"/"+item.GetName())
	}
	slices.Sort(left)
	if !slices.Equal(left, []string{"default/w-default", "other/w-other"}) {
		t.Fatalf("widgets after the namespace's deletion: %v", left)
	}

	data, err := s.ext.ApiextensionsV1().RESTClient().Delete().Resource("customresourcedefinitions").Name("widgets.example.com").DoRaw(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var deleting apiextensionsv1.CustomResourceDefinition
	if err := json.Unmarshal(data, &deleting); err != nil || deleting.DeletionTimestamp == nil ||
		!slices.Contains(deleting.Finalizers, "customresourcecleanup.apiextensions.k8s.io") {
		t.Fatalf("CRD delete answered %s (%v), want the CRD marked with the cleanup finalizer", data, err)
	}
	eventually(t, "CRD deleted", func() (bool, error) {
		_, err := s.ext.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, "widgets.example.com", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	eventually(t, "widgets gone from discovery", func() (bool, error) {
		list, err := s.Client.Discovery().ServerResourcesForGroupVersion("example.com/v1")
		if err != nil {
			return false, err
		}
		return len(list.APIResources) == 1 && list.APIResources[0].Name == "gadgets", nil
	})
	if _, err := s.dyn.Resource(widgetsV1).List(ctx, metav1.ListOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("list of widgets without their CRD: %v, want NotFound", err)
	}

	s.applyCRD(t, widgetCRD, "widgets.example.com")
	all, err = s.dyn.Resource(widgetsV1).List(ctx, metav1.ListOptions{})
	if err != nil || len(all.Items) != 0 {
		t.Fatalf("widgets after re-creating the CRD: %v %v, want none", all, err)
	}
	if _, err := s.dyn.Resource(gadgetsV1).Get(ctx, "g", metav1.GetOptions{}); err != nil {
		t.Errorf("the other CRD's gadget: %v", err)
	}
}

// TestCustomResourceContentTypes checks that custom resources come as JSON
// or YAML only, as upstream has no protobuf for them.
func TestCustomResourceContentTypes(t *testing.T) {
	s := startCRDServer(t)
	ctx := context.Background()
	s.applyCRD(t, widgetCRD, "widgets.example.com")
	if _, err := s.dyn.Resource(widgetsV1).Namespace("default").Create(ctx, widget("default", "w", "red", 1), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	const protobuf = "application/vnd.kubernetes.protobuf"
	for _, path := range []string{"/apis/example.com/v1/namespaces/default/widgets/w", "/apis/example.com/v1/namespaces/default/widgets"} {
		// The Status may come as protobuf, as upstream sends it.
		code, _, data := s.rawRequest(t, http.MethodGet, path, protobuf, "", "")
		if code != http.StatusNotAcceptable || !strings.Contains(string(data), "NotAcceptable") {
			t.Errorf("GET %s as protobuf: %d %s, want a 406 NotAcceptable Status", path, code, data)
		}
		code, contentType, data := s.rawRequest(t, http.MethodGet, path, protobuf+", application/json", "", "")
		if code != http.StatusOK || !strings.HasPrefix(contentType, "application/json") || !strings.Contains(string(data), `"apiVersion":"example.com/v1"`) {
			t.Errorf("GET %s as protobuf or JSON: %d %s %s", path, code, contentType, data)
		}
		code, contentType, data = s.rawRequest(t, http.MethodGet, path, "application/yaml", "", "")
		if code != http.StatusOK || contentType != "application/yaml" || !strings.Contains(string(data), "apiVersion: example.com/v1") {
			t.Errorf("GET %s as YAML: %d %s %s", path, code, contentType, data)
		}
	}
}
