package integration

import (
	"context"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/testutil"
)

// TestMutatingAdmissionPolicy binds a policy with an apply configuration
// and a JSON patch to one namespace and checks that client-go and kubectl
// writes there are changed, that other namespaces are not, that a
// mutation the object's type cannot hold refuses the write, and that
// deleting the binding lifts the policy.
func TestMutatingAdmissionPolicy(t *testing.T) {
	s := testutil.StartServer(t)
	ctx := context.Background()
	c := s.Client
	for name, labels := range map[string]map[string]string{"mutated": {"map": "on"}, "plain": nil} {
		if _, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	policy := &admissionregistrationv1.MutatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "defaults"},
		Spec: admissionregistrationv1.MutatingAdmissionPolicySpec{
			MatchConstraints: &admissionregistrationv1.MatchResources{
				ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{RuleWithOperations: admissionregistrationv1.RuleWithOperations{
					Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
					Rule:       admissionregistrationv1.Rule{APIGroups: []string{"apps"}, APIVersions: []string{"v1"}, Resources: []string{"deployments"}},
				}}},
			},
			Variables: []admissionregistrationv1.Variable{{Name: "by", Expression: "'policy-' + namespaceObject.metadata.name"}},
			Mutations: []admissionregistrationv1.Mutation{
				{PatchType: admissionregistrationv1.PatchTypeApplyConfiguration, ApplyConfiguration: &admissionregistrationv1.ApplyConfiguration{
					Expression: `Object{metadata: Object.metadata{annotations: {"mutated-by": variables.by}}}`,
				}},
				{PatchType: admissionregistrationv1.PatchTypeJSONPatch, JSONPatch: &admissionregistrationv1.JSONPatch{
					Expression: `[JSONPatch{op: "replace", path: "/spec/replicas", value: 7}]`,
				}},
			},
			ReinvocationPolicy: admissionregistrationv1.NeverReinvocationPolicy,
		},
	}
	if _, err := c.AdmissionregistrationV1().MutatingAdmissionPolicies().Create(ctx, policy, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &admissionregistrationv1.MutatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "defaults"},
		Spec: admissionregistrationv1.MutatingAdmissionPolicyBindingSpec{
			PolicyName: "defaults",
			MatchResources: &admissionregistrationv1.MatchResources{
				NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"map": "on"}},
			},
		},
	}
	if _, err := c.AdmissionregistrationV1().MutatingAdmissionPolicyBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// The plugin reads the watch cache: wait until the binding is seen.
	waitFor(t, "the policy to mutate", func() bool {
		d, err := c.AppsV1().Deployments("mutated").Create(ctx, vapDeployment("probe", 1), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil {
			t.Fatal(err)
		}
		return d.Annotations["mutated-by"] != ""
	})

	d, err := c.AppsV1().Deployments("mutated").Create(ctx, vapDeployment("web", 1), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Annotations["mutated-by"]; got != "policy-mutated" {
		t.Errorf("annotation mutated-by = %q, want policy-mutated", got)
	}
	if got := *d.Spec.Replicas; got != 7 {
		t.Errorf("replicas = %d, want 7", got)
	}
	if d.Spec.Template.Spec.Containers[0].Image != "busybox" {
		t.Errorf("untouched fields changed: %+v", d.Spec.Template.Spec.Containers)
	}
	// Stored as mutated, and updates are mutated too.
	d, err = c.AppsV1().Deployments("mutated").Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d.Spec.Replicas = ptr.To[int32](2)
	if d, err = c.AppsV1().Deployments("mutated").Update(ctx, d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := *d.Spec.Replicas; got != 7 {
		t.Errorf("replicas after update = %d, want 7", got)
	}

	plain, err := c.AppsV1().Deployments("plain").Create(ctx, vapDeployment("web", 1), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if plain.Annotations["mutated-by"] != "" || *plain.Spec.Replicas != 1 {
		t.Errorf("deployment in an unselected namespace was mutated: %v, %d replicas", plain.Annotations, *plain.Spec.Replicas)
	}

	kubectl := testutil.Kubectl(t, "1.33")
	manifest := `apiVersion: apps/v1
kind: Deployment
metadata: {name: applied, namespace: mutated}
spec:
  replicas: 1
  selector: {matchLabels: {app: applied}}
  template:
    metadata: {labels: {app: applied}}
    spec: {containers: [{name: c, image: busybox}]}
`
	if out, err := s.RunKubectl(t, kubectl, manifest, "apply", "--server-side", "-f", "-"); err != nil {
		t.Fatalf("kubectl apply: %v: %s", err, out)
	}
	out, err := s.RunKubectl(t, kubectl, "", "get", "deployment", "applied", "-n", "mutated",
		"-o", `jsonpath={.spec.replicas} {.metadata.annotations.mutated-by}`)
	if want := "7 policy-mutated"; err != nil || strings.TrimSpace(out) != want {
		t.Errorf("kubectl get: %q, %v; want %q", out, err, want)
	}

	// A mutation the Deployment type cannot hold refuses the write.
	p, err := c.AdmissionregistrationV1().MutatingAdmissionPolicies().Get(ctx, "defaults", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p.Spec.Mutations[1].JSONPatch.Expression = `[JSONPatch{op: "replace", path: "/spec/replicas", value: "many"}]`
	if _, err := c.AdmissionregistrationV1().MutatingAdmissionPolicies().Update(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	refused := func() bool {
		_, err := c.AppsV1().Deployments("mutated").Create(ctx, vapDeployment("odd", 1), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return apierrors.IsInvalid(err) &&
			strings.Contains(err.Error(), "policy 'defaults' with binding 'defaults' denied request: mutated object is not a valid Deployment")
	}
	waitFor(t, "the broken mutation to refuse", refused)

	if err := c.AdmissionregistrationV1().MutatingAdmissionPolicyBindings().Delete(ctx, "defaults", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the deleted binding to stop mutating", func() bool {
		d, err := c.AppsV1().Deployments("mutated").Create(ctx, vapDeployment("late", 1), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return err == nil && d.Annotations["mutated-by"] == "" && *d.Spec.Replicas == 1
	})
}
