package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/testutil"
)

func vapDeployment(name string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
			},
		},
	}
}

// TestValidatingAdmissionPolicy binds a policy with a ConfigMap param to
// one namespace and checks that client-go and kubectl writes there are
// refused with its message, that other namespaces and Warn bindings are
// not, and that deleting the binding lifts it.
func TestValidatingAdmissionPolicy(t *testing.T) {
	s := testutil.StartServer(t)
	ctx := context.Background()
	c := s.Client
	for name, labels := range map[string]map[string]string{"guarded": {"vap": "on"}, "free": nil} {
		if _, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.CoreV1().ConfigMaps(name).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "limits"}, Data: map[string]string{"max": "3"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	policy := &admissionregistrationv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "replica-limit"},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			ParamKind: &admissionregistrationv1.ParamKind{APIVersion: "v1", Kind: "ConfigMap"},
			MatchConstraints: &admissionregistrationv1.MatchResources{
				ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{RuleWithOperations: admissionregistrationv1.RuleWithOperations{
					Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
					Rule:       admissionregistrationv1.Rule{APIGroups: []string{"apps"}, APIVersions: []string{"v1"}, Resources: []string{"deployments"}},
				}}},
			},
			Variables: []admissionregistrationv1.Variable{{Name: "max", Expression: "int(params.data.max)"}},
			Validations: []admissionregistrationv1.Validation{{
				Expression:        "object.spec.replicas <= variables.max",
				MessageExpression: "'replicas must be at most ' + string(variables.max) + ', got ' + string(object.spec.replicas)",
			}},
		},
	}
	if _, err := c.AdmissionregistrationV1().ValidatingAdmissionPolicies().Create(ctx, policy, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "replica-limit"},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName: "replica-limit",
			ParamRef: &admissionregistrationv1.ParamRef{Name: "limits",
				ParameterNotFoundAction: ptr.To(admissionregistrationv1.DenyAction)},
			MatchResources: &admissionregistrationv1.MatchResources{
				NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"vap": "on"}},
			},
			ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny},
		},
	}
	if _, err := c.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// The plugin reads the watch cache: wait until the binding is seen.
	const message = `deployments.apps "big" is forbidden: ValidatingAdmissionPolicy 'replica-limit' with binding 'replica-limit' denied request: replicas must be at most 3, got 5`
	waitFor(t, "the policy to refuse", func() bool {
		_, err := c.AppsV1().Deployments("guarded").Create(ctx, vapDeployment("big", 5), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err == nil {
			return false
		}
		if !apierrors.IsInvalid(err) || err.Error() != message {
			t.Fatalf("create refused with %v, want Invalid: %s", err, message)
		}
		return true
	})

	if _, err := c.AppsV1().Deployments("free").Create(ctx, vapDeployment("big", 5), metav1.CreateOptions{}); err != nil {
		t.Errorf("deployment in an unselected namespace: %v", err)
	}
	small, err := c.AppsV1().Deployments("guarded").Create(ctx, vapDeployment("small", 2), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("deployment within the limit: %v", err)
	}
	small.Spec.Replicas = ptr.To[int32](4)
	_, err = c.AppsV1().Deployments("guarded").Update(ctx, small, metav1.UpdateOptions{})
	if want := "replicas must be at most 3, got 4"; !apierrors.IsInvalid(err) || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("update over the limit: %v, want Invalid ending %q", err, want)
	}

	kubectl := testutil.Kubectl(t, "1.33")
	manifest := `apiVersion: apps/v1
kind: Deployment
metadata: {name: big, namespace: guarded}
spec:
  replicas: 5
  selector: {matchLabels: {app: big}}
  template:
    metadata: {labels: {app: big}}
    spec: {containers: [{name: c, image: busybox}]}
`
	// kubectl words Invalid errors itself ("The deployments "big" is
	// invalid: : …"), quoting the policy's part.
	out, err := s.RunKubectl(t, kubectl, manifest, "apply", "-f", "-")
	if want := message[strings.Index(message, "ValidatingAdmissionPolicy"):]; err == nil || !strings.Contains(out, want) {
		t.Errorf("kubectl apply: err %v, output %q; want a failure showing %q", err, out, want)
	}

	// Without params the binding denies, as its parameterNotFoundAction says.
	if err := c.CoreV1().ConfigMaps("guarded").Delete(ctx, "limits", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	paramMissing := func() bool {
		_, err := c.AppsV1().Deployments("guarded").Create(ctx, vapDeployment("tiny", 1), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return err != nil && strings.Contains(err.Error(), "no params found for policy binding with `Deny` parameterNotFoundAction")
	}
	waitFor(t, "the missing param to refuse", paramMissing)

	// Warn only: nothing is refused.
	b, err := c.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Get(ctx, "replica-limit", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b.Spec.ValidationActions = []admissionregistrationv1.ValidationAction{admissionregistrationv1.Warn}
	if _, err := c.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Update(ctx, b, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the Warn binding to admit", func() bool {
		_, err := c.AppsV1().Deployments("guarded").Create(ctx, vapDeployment("tiny", 1), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return err == nil
	})
	// …and the client is told, as kubectl shows it.
	out, err = s.RunKubectl(t, kubectl, manifest, "create", "--dry-run=server", "-f", "-")
	if want := "Warning: Validation failed for ValidatingAdmissionPolicy 'replica-limit' with binding 'replica-limit': failed to configure binding: no params found"; err != nil || !strings.Contains(out, want) {
		t.Errorf("kubectl create under a Warn binding: err %v, output %q; want it to show %q", err, out, want)
	}

	// Back to Deny, then delete the binding: the policy no longer applies.
	b.Spec.ValidationActions = []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny}
	b.ResourceVersion = ""
	if _, err := c.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Update(ctx, b, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the Deny binding to refuse again", paramMissing)
	if err := c.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Delete(ctx, "replica-limit", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the deleted binding to stop refusing", func() bool { return !paramMissing() })
}

// waitFor polls cond for up to 30 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
