package mutatingpolicy

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/admission"
)

var deployments = appsv1.SchemeGroupVersion.WithResource("deployments")

func deployment(replicas int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "d", Namespace: "ns", Labels: map[string]string{"app": "web"}},
		Spec:       appsv1.DeploymentSpec{Replicas: &replicas},
	}
}

func apply(expression string) admissionregistrationv1.Mutation {
	return admissionregistrationv1.Mutation{PatchType: admissionregistrationv1.PatchTypeApplyConfiguration,
		ApplyConfiguration: &admissionregistrationv1.ApplyConfiguration{Expression: expression}}
}

func patch(expression string) admissionregistrationv1.Mutation {
	return admissionregistrationv1.Mutation{PatchType: admissionregistrationv1.PatchTypeJSONPatch,
		JSONPatch: &admissionregistrationv1.JSONPatch{Expression: expression}}
}

// policyOf is policy "p" on apps/v1 deployments.
func policyOf(mods ...func(*admissionregistrationv1.MutatingAdmissionPolicySpec)) admissionregistrationv1.MutatingAdmissionPolicy {
	p := admissionregistrationv1.MutatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "p", UID: "uid-p", ResourceVersion: "1"},
		Spec: admissionregistrationv1.MutatingAdmissionPolicySpec{
			MatchConstraints: &admissionregistrationv1.MatchResources{ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionregistrationv1.RuleWithOperations{
					Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
					Rule:       admissionregistrationv1.Rule{APIGroups: []string{"apps"}, APIVersions: []string{"v1"}, Resources: []string{"deployments"}},
				},
			}}},
			ReinvocationPolicy: admissionregistrationv1.NeverReinvocationPolicy,
		},
	}
	for _, m := range mods {
		m(&p.Spec)
	}
	return p
}

func mutations(ms ...admissionregistrationv1.Mutation) func(*admissionregistrationv1.MutatingAdmissionPolicySpec) {
	return func(s *admissionregistrationv1.MutatingAdmissionPolicySpec) { s.Mutations = append(s.Mutations, ms...) }
}

func ignoreFailures(s *admissionregistrationv1.MutatingAdmissionPolicySpec) {
	s.FailurePolicy = ptr.To(admissionregistrationv1.Ignore)
}

func binding(mods ...func(*admissionregistrationv1.MutatingAdmissionPolicyBindingSpec)) admissionregistrationv1.MutatingAdmissionPolicyBinding {
	b := admissionregistrationv1.MutatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "b"},
		Spec:       admissionregistrationv1.MutatingAdmissionPolicyBindingSpec{PolicyName: "p"},
	}
	for _, m := range mods {
		m(&b.Spec)
	}
	return b
}

type fixture struct {
	policies []admissionregistrationv1.MutatingAdmissionPolicy
	bindings []admissionregistrationv1.MutatingAdmissionPolicyBinding
	params   []runtime.Object // ConfigMaps in "ns"
}

func (f fixture) plugin() *Plugin {
	return New(Sources{
		Policies: func(context.Context) ([]admissionregistrationv1.MutatingAdmissionPolicy, error) {
			return f.policies, nil
		},
		Bindings: func(context.Context) ([]admissionregistrationv1.MutatingAdmissionPolicyBinding, error) {
			return f.bindings, nil
		},
		Namespace: func(_ context.Context, name string) (*corev1.Namespace, error) {
			return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"team": "a"}}}, nil
		},
		Params: func(_ context.Context, kind admissionregistrationv1.ParamKind, namespace string) ([]runtime.Object, bool, error) {
			if kind.Kind != "ConfigMap" {
				return nil, false, apierrors.NewNotFound(schema.GroupResource{}, kind.Kind)
			}
			return f.params, true, nil
		},
	})
}

func TestAdmit(t *testing.T) {
	one := func(p admissionregistrationv1.MutatingAdmissionPolicy, b ...func(*admissionregistrationv1.MutatingAdmissionPolicyBindingSpec)) fixture {
		return fixture{policies: []admissionregistrationv1.MutatingAdmissionPolicy{p},
			bindings: []admissionregistrationv1.MutatingAdmissionPolicyBinding{binding(b...)}}
	}
	withReplicas := func(n int32) *appsv1.Deployment { return deployment(n) }
	annotated := func(n int32, a map[string]string) *appsv1.Deployment {
		d := deployment(n)
		d.Annotations = a
		return d
	}
	tests := []struct {
		name string
		f    fixture
		obj  *appsv1.Deployment
		want *appsv1.Deployment // nil: refused
		// wantMessage is the refusal's message.
		wantMessage string
	}{
		{name: "no bindings", f: fixture{}, want: withReplicas(1)},
		{name: "apply configuration scalar", f: one(policyOf(mutations(apply(`Object{spec: Object.spec{replicas: 1337}}`)))), want: withReplicas(1337)},
		{name: "apply configuration map merge",
			f:    one(policyOf(mutations(apply(`Object{metadata: Object.metadata{annotations: {"mutated-by": "admission-policy"}}}`)))),
			obj:  annotated(1, map[string]string{"keep": "x"}),
			want: annotated(1, map[string]string{"keep": "x", "mutated-by": "admission-policy"})},
		{name: "json patch", f: one(policyOf(mutations(patch(`[JSONPatch{op: "replace", path: "/spec/replicas", value: 3}]`)))), want: withReplicas(3)},
		{name: "mutations see the ones before",
			f: one(policyOf(mutations(
				apply(`Object{spec: Object.spec{replicas: object.spec.replicas * 2}}`),
				patch(`[JSONPatch{op: "replace", path: "/spec/replicas", value: object.spec.replicas + 1}]`)))),
			want: withReplicas(3)},
		{name: "variables, request and namespaceObject",
			f: one(policyOf(mutations(apply(`Object{metadata: Object.metadata{annotations: {"team": variables.team, "op": request.operation}}}`)),
				func(s *admissionregistrationv1.MutatingAdmissionPolicySpec) {
					s.Variables = []admissionregistrationv1.Variable{{Name: "team", Expression: "namespaceObject.metadata.labels.team"}}
				})),
			want: annotated(1, map[string]string{"team": "a", "op": "CREATE"})},
		{name: "rule does not match", f: one(policyOf(mutations(apply(`Object{spec: Object.spec{replicas: 5}}`)),
			func(s *admissionregistrationv1.MutatingAdmissionPolicySpec) {
				s.MatchConstraints.ResourceRules[0].Resources = []string{"replicasets"}
			})), want: withReplicas(1)},
		{name: "binding namespace selector does not match", f: one(policyOf(mutations(apply(`Object{spec: Object.spec{replicas: 5}}`))),
			func(b *admissionregistrationv1.MutatingAdmissionPolicyBindingSpec) {
				b.MatchResources = &admissionregistrationv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "b"}}}
			}), want: withReplicas(1)},
		{name: "binding namespace selector matches", f: one(policyOf(mutations(apply(`Object{spec: Object.spec{replicas: 5}}`))),
			func(b *admissionregistrationv1.MutatingAdmissionPolicyBindingSpec) {
				b.MatchResources = &admissionregistrationv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "a"}}}
			}), want: withReplicas(5)},
		{name: "match condition false", f: one(policyOf(mutations(apply(`Object{spec: Object.spec{replicas: 5}}`)),
			func(s *admissionregistrationv1.MutatingAdmissionPolicySpec) {
				s.MatchConditions = []admissionregistrationv1.MatchCondition{{Name: "big", Expression: "object.spec.replicas > 3"}}
			})), want: withReplicas(1)},
		{name: "params", f: fixture{
			policies: []admissionregistrationv1.MutatingAdmissionPolicy{policyOf(mutations(apply(`Object{spec: Object.spec{replicas: int(params.data.replicas)}}`)),
				func(s *admissionregistrationv1.MutatingAdmissionPolicySpec) {
					s.ParamKind = &admissionregistrationv1.ParamKind{APIVersion: "v1", Kind: "ConfigMap"}
				})},
			bindings: []admissionregistrationv1.MutatingAdmissionPolicyBinding{binding(func(b *admissionregistrationv1.MutatingAdmissionPolicyBindingSpec) {
				b.ParamRef = &admissionregistrationv1.ParamRef{Name: "cfg"}
			})},
			params: []runtime.Object{&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg", Namespace: "ns"}, Data: map[string]string{"replicas": "7"}}},
		}, want: withReplicas(7)},
		{name: "missing params fail", f: fixture{
			policies: []admissionregistrationv1.MutatingAdmissionPolicy{policyOf(mutations(apply(`Object{}`)),
				func(s *admissionregistrationv1.MutatingAdmissionPolicySpec) {
					s.ParamKind = &admissionregistrationv1.ParamKind{APIVersion: "v1", Kind: "ConfigMap"}
				})},
			bindings: []admissionregistrationv1.MutatingAdmissionPolicyBinding{binding(func(b *admissionregistrationv1.MutatingAdmissionPolicyBindingSpec) {
				b.ParamRef = &admissionregistrationv1.ParamRef{Name: "nope"}
			})},
		}, wantMessage: `deployments.apps "d" is forbidden: policy 'p' with binding 'b' denied request: failed to configure binding: no params found for policy binding with ` + "`Deny`" + ` parameterNotFoundAction`},
		{name: "runtime error fails", f: one(policyOf(mutations(apply(`Object{spec: Object.spec{replicas: object.spec.nope}}`)))),
			wantMessage: `deployments.apps "d" is forbidden: policy 'p' with binding 'b' denied request: expression 'Object{spec: Object.spec{replicas: object.spec.nope}}' resulted in error: no such key: nope`},
		{name: "runtime error ignored, later mutations applied",
			f:    one(policyOf(mutations(apply(`Object{spec: Object.spec{replicas: object.spec.nope}}`), apply(`Object{spec: Object.spec{replicas: 2}}`)), ignoreFailures)),
			want: withReplicas(2)},
		{name: "unconvertible fails", f: one(policyOf(mutations(apply(`Object{spec: Object.spec{replicas: "many"}}`)))),
			wantMessage: "prefix"},
		{name: "unknown field fails", f: one(policyOf(mutations(apply(`Object{spec: Object.spec{replicaz: 1}}`)))),
			wantMessage: "prefix"},
		{name: "unconvertible ignored", f: one(policyOf(mutations(apply(`Object{spec: Object.spec{replicas: "many"}}`)), ignoreFailures)),
			want: withReplicas(1)},
		{name: "wrong result type fails", f: one(policyOf(mutations(apply(`1`)))),
			wantMessage: `deployments.apps "d" is forbidden: policy 'p' with binding 'b' denied request: apply configuration must evaluate to an Object, got int`},
		{name: "json patch error fails", f: one(policyOf(mutations(patch(`[JSONPatch{op: "test", path: "/spec/replicas", value: 9}]`)))),
			wantMessage: "prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := tt.obj
			if obj == nil {
				obj = deployment(1)
			}
			a := &admission.Attributes{Operation: admission.Create, Resource: deployments, Namespace: "ns", Object: obj}
			err := tt.f.plugin().Admit(context.Background(), a)
			if tt.want == nil {
				var status apierrors.APIStatus
				if !errors.As(err, &status) || status.Status().Code != 422 {
					t.Fatalf("got %v, want a 422 refusal", err)
				}
				if tt.wantMessage != "prefix" && status.Status().Message != tt.wantMessage {
					t.Errorf("message %q, want %q", status.Status().Message, tt.wantMessage)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.Object != obj {
				t.Error("Admit replaced the object instead of changing it")
			}
			if diff := cmp.Diff(tt.want, obj); diff != "" {
				t.Errorf("object (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAdmitUnstructured: a custom resource's map is replaced by the
// mutated one.
func TestAdmitUnstructured(t *testing.T) {
	widgets := schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}
	p := policyOf(mutations(apply(`Object{spec: Object.spec{size: 3}}`)))
	p.Spec.MatchConstraints.ResourceRules[0].Rule = admissionregistrationv1.Rule{APIGroups: []string{"example.com"}, APIVersions: []string{"v1"}, Resources: []string{"widgets"}}
	f := fixture{policies: []admissionregistrationv1.MutatingAdmissionPolicy{p}, bindings: []admissionregistrationv1.MutatingAdmissionPolicyBinding{binding()}}
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "example.com/v1", "kind": "Widget",
		"metadata": map[string]any{"name": "w", "namespace": "ns"},
		"spec":     map[string]any{"size": int64(1), "color": "red"},
	}}
	a := &admission.Attributes{Operation: admission.Create, Resource: widgets, Namespace: "ns", Object: obj}
	if err := f.plugin().Admit(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"size": int64(3), "color": "red"}
	if diff := cmp.Diff(want, obj.Object["spec"]); diff != "" {
		t.Errorf("spec (-want +got):\n%s", diff)
	}
}

// TestManagedFieldsSurvive: a mutation leaves the fields it does not
// touch, managedFields included, as they were.
func TestManagedFieldsSurvive(t *testing.T) {
	obj := deployment(1)
	obj.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply,
		APIVersion: "apps/v1", FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(`{"f:spec":{"f:replicas":{}}}`)}}
	want := obj.DeepCopy()
	want.Spec.Replicas = ptr.To[int32](2)
	f := fixture{policies: []admissionregistrationv1.MutatingAdmissionPolicy{policyOf(mutations(apply(`Object{spec: Object.spec{replicas: 2}}`)))},
		bindings: []admissionregistrationv1.MutatingAdmissionPolicyBinding{binding()}}
	if err := f.plugin().Admit(context.Background(), &admission.Attributes{Operation: admission.Create, Resource: deployments, Namespace: "ns", Object: obj}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, obj); diff != "" {
		t.Errorf("object (-want +got):\n%s", diff)
	}
}
