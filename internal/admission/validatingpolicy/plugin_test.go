package validatingpolicy

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/admission"
)

var (
	deployments = appsv1.SchemeGroupVersion.WithResource("deployments")
	replicaSets = appsv1.SchemeGroupVersion.WithResource("replicasets")
	namespaces  = corev1.SchemeGroupVersion.WithResource("namespaces")
)

// deployment is deployment "d" in namespace "ns".
func deployment(replicas int32, labels map[string]string) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "d", Namespace: "ns", Labels: labels},
		Spec:       appsv1.DeploymentSpec{Replicas: &replicas},
	}
}

func create(obj runtime.Object) *admission.Attributes {
	return &admission.Attributes{Operation: admission.Create, Resource: deployments, Namespace: "ns", Object: obj}
}

func update(obj, old runtime.Object) *admission.Attributes {
	a := create(obj)
	a.Operation, a.Old = admission.Update, old
	return a
}

func rule(resources ...string) admissionregistrationv1.NamedRuleWithOperations {
	return admissionregistrationv1.NamedRuleWithOperations{RuleWithOperations: admissionregistrationv1.RuleWithOperations{
		Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
		Rule:       admissionregistrationv1.Rule{APIGroups: []string{"apps"}, APIVersions: []string{"v1"}, Resources: resources},
	}}
}

// policyOn is a policy on deployments with one validation.
func policyOn(expression string, mods ...func(*admissionregistrationv1.ValidatingAdmissionPolicySpec)) admissionregistrationv1.ValidatingAdmissionPolicy {
	p := admissionregistrationv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "p", UID: "uid-p", ResourceVersion: "1"},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			MatchConstraints: &admissionregistrationv1.MatchResources{
				ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{rule("deployments")},
			},
			Validations: []admissionregistrationv1.Validation{{Expression: expression}},
		},
	}
	for _, m := range mods {
		m(&p.Spec)
	}
	return p
}

func bindingOf(mods ...func(*admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec)) admissionregistrationv1.ValidatingAdmissionPolicyBinding {
	b := admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "b"},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        "p",
			ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny},
		},
	}
	for _, m := range mods {
		m(&b.Spec)
	}
	return b
}

func configMap(name string, labels, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: labels}, Data: data}
}

// fixture is the world one test case runs in.
type fixture struct {
	policies   []admissionregistrationv1.ValidatingAdmissionPolicy
	bindings   []admissionregistrationv1.ValidatingAdmissionPolicyBinding
	namespaces map[string]map[string]string // name → labels; nil: "ns", unlabeled
	params     []runtime.Object             // ConfigMaps in namespace "ns"
}

func (f fixture) plugin() *Plugin {
	return New(f.sources())
}

func (f fixture) sources() Sources {
	return Sources{
		Policies: func(context.Context) ([]admissionregistrationv1.ValidatingAdmissionPolicy, error) {
			return f.policies, nil
		},
		Bindings: func(context.Context) ([]admissionregistrationv1.ValidatingAdmissionPolicyBinding, error) {
			return f.bindings, nil
		},
		Namespace: func(_ context.Context, name string) (*corev1.Namespace, error) {
			l, ok := f.namespaces[name]
			if !ok && (f.namespaces != nil || name != "ns") {
				return nil, apierrors.NewNotFound(namespaces.GroupResource(), name)
			}
			return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l}}, nil
		},
		Params: func(_ context.Context, kind admissionregistrationv1.ParamKind, namespace string) ([]runtime.Object, bool, error) {
			if kind.APIVersion != "v1" || kind.Kind != "ConfigMap" {
				return nil, false, apierrors.NewNotFound(schema.GroupResource{}, kind.Kind)
			}
			if namespace != "ns" {
				return nil, true, nil
			}
			return f.params, true, nil
		},
		User: func(context.Context) (authenticationv1.UserInfo, bool) {
			return authenticationv1.UserInfo{Username: "alice", Groups: []string{"devs"}}, true
		},
	}
}

// outcome is what a test expects of Admit: allowed (code 0) or refused
// with code and message.
type outcome struct {
	code    int32
	reason  metav1.StatusReason
	message string
	// prefix: message need only start with the wanted one, whose end
	// the CEL library words.
	prefix bool
}

func outcomeOf(t *testing.T, err error) outcome {
	t.Helper()
	if err == nil {
		return outcome{}
	}
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		t.Fatalf("Admit returned a non-status error: %v", err)
	}
	s := status.Status()
	return outcome{code: s.Code, reason: s.Reason, message: s.Message}
}

// denied is the refusal of deployment "d" by policy p, binding b.
func denied(code int32, reason metav1.StatusReason, message string) outcome {
	return outcome{code: code, reason: reason,
		message: `deployments.apps "d" is forbidden: ValidatingAdmissionPolicy 'p' with binding 'b' denied request: ` + message}
}

func invalid(message string) outcome { return denied(422, metav1.StatusReasonInvalid, message) }

func prefixed(o outcome) outcome {
	o.prefix = true
	return o
}

func TestAdmit(t *testing.T) {
	replicasOver1 := "object.spec.replicas > 1"
	withValidation := func(v admissionregistrationv1.Validation) func(*admissionregistrationv1.ValidatingAdmissionPolicySpec) {
		return func(s *admissionregistrationv1.ValidatingAdmissionPolicySpec) {
			s.Validations = []admissionregistrationv1.Validation{v}
		}
	}
	failure := func(fp admissionregistrationv1.FailurePolicyType) func(*admissionregistrationv1.ValidatingAdmissionPolicySpec) {
		return func(s *admissionregistrationv1.ValidatingAdmissionPolicySpec) { s.FailurePolicy = &fp }
	}
	constraints := func(m func(*admissionregistrationv1.MatchResources)) func(*admissionregistrationv1.ValidatingAdmissionPolicySpec) {
		return func(s *admissionregistrationv1.ValidatingAdmissionPolicySpec) { m(s.MatchConstraints) }
	}
	rules := func(r ...admissionregistrationv1.NamedRuleWithOperations) func(*admissionregistrationv1.ValidatingAdmissionPolicySpec) {
		return constraints(func(m *admissionregistrationv1.MatchResources) { m.ResourceRules = r })
	}
	variables := func(v ...string) func(*admissionregistrationv1.ValidatingAdmissionPolicySpec) {
		return func(s *admissionregistrationv1.ValidatingAdmissionPolicySpec) {
			for i := 0; i < len(v); i += 2 {
				s.Variables = append(s.Variables, admissionregistrationv1.Variable{Name: v[i], Expression: v[i+1]})
			}
		}
	}
	matchCondition := func(expr string) func(*admissionregistrationv1.ValidatingAdmissionPolicySpec) {
		return func(s *admissionregistrationv1.ValidatingAdmissionPolicySpec) {
			s.MatchConditions = append(s.MatchConditions, admissionregistrationv1.MatchCondition{Name: "mc", Expression: expr})
		}
	}
	cmParams := func(s *admissionregistrationv1.ValidatingAdmissionPolicySpec) {
		s.ParamKind = &admissionregistrationv1.ParamKind{APIVersion: "v1", Kind: "ConfigMap"}
	}
	actions := func(a ...admissionregistrationv1.ValidationAction) func(*admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec) {
		return func(s *admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec) { s.ValidationActions = a }
	}
	paramRef := func(r admissionregistrationv1.ParamRef) func(*admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec) {
		return func(s *admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec) { s.ParamRef = &r }
	}
	labeled := func(l map[string]string) *metav1.LabelSelector { return &metav1.LabelSelector{MatchLabels: l} }
	team := map[string]string{"team": "a"}
	one := deployment(1, nil)
	three := deployment(3, nil)

	tests := []struct {
		name string
		f    fixture
		a    *admission.Attributes
		want outcome
	}{
		{name: "no bindings", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("false")}},
			a: create(one)},
		{name: "default message", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn(replicasOver1)}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf()}},
			a: create(one), want: invalid("failed expression: object.spec.replicas > 1")},
		{name: "passes", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn(replicasOver1)}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf()}},
			a: create(three)},
		{name: "binding of a missing policy", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("false")}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf(func(s *admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec) { s.PolicyName = "other" })}},
			a: create(one)},
		{name: "message", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("", withValidation(admissionregistrationv1.Validation{Expression: replicasOver1, Message: " too few "}))}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf()}},
			a: create(one), want: invalid("too few")},
		{name: "message expression", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("", withValidation(admissionregistrationv1.Validation{Expression: replicasOver1, Message: "too few", MessageExpression: "'wants replicas > 1, got ' + string(object.spec.replicas)"}))}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf()}},
			a: create(one), want: invalid("wants replicas > 1, got 1")},
		{name: "failing message expression falls back to message", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("", withValidation(admissionregistrationv1.Validation{Expression: replicasOver1, Message: "too few", MessageExpression: "'got ' + object.spec.replicas"}))}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf()}},
			a: create(one), want: invalid("too few")},
		{name: "non-string message expression falls back to the expression", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("", withValidation(admissionregistrationv1.Validation{Expression: replicasOver1, MessageExpression: "object.spec.replicas"}))}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf()}},
			a: create(one), want: invalid("failed expression: object.spec.replicas > 1")},
		{name: "reason Forbidden", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("", withValidation(admissionregistrationv1.Validation{Expression: replicasOver1, Reason: ptr.To(metav1.StatusReasonForbidden)}))}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf()}},
			a: create(one), want: denied(403, metav1.StatusReasonForbidden, "failed expression: object.spec.replicas > 1")},
		{name: "other resource", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("false")}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf()}},
			a: &admission.Attributes{Operation: admission.Create, Resource: replicaSets, Namespace: "ns", Object: &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "d"}}}},
		{name: "wildcard resource", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("false", rules(rule("*")))}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf()}},
			a:    &admission.Attributes{Operation: admission.Create, Resource: replicaSets, Namespace: "ns", Object: &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "d"}}},
			want: outcome{code: 422, reason: metav1.StatusReasonInvalid, message: `replicasets.apps "d" is forbidden: ValidatingAdmissionPolicy 'p' with binding 'b' denied request: failed expression: false`}},
		{name: "wildcard does not select subresources", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("false", rules(rule("*")))}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf()}},
			a: &admission.Attributes{Operation: admission.Update, Resource: deployments, Subresource: "scale", Namespace: "ns", Object: &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: "d"}}}},
		{name: "res/sub rule", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("request.subResource == 'scale' && request.kind.kind == 'Scale' && object.spec.replicas < 5", rules(rule("deployments/scale")))}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf()}},
			a:    &admission.Attributes{Operation: admission.Update, Resource: deployments, Subresource: "scale", Namespace: "ns", Object: &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: "d"}, Spec: autoscalingv1.ScaleSpec{Replicas: 9}}},
			want: invalid("failed expression: request.subResource == 'scale' && request.kind.kind == 'Scale' && object.spec.replicas < 5")},
		{name: "operation not in rule", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("false", rules(func() admissionregistrationv1.NamedRuleWithOperations {
			r := rule("deployments")
			r.Operations = []admissionregistrationv1.OperationType{admissionregistrationv1.Update}
			return r
		}()))}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf()}},
			a: create(one)},
		{name: "resource names", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("false", rules(func() admissionregistrationv1.NamedRuleWithOperations {
			r := rule("deployments")
			r.ResourceNames = []string{"other"}
			return r
		}()))}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf()}},
			a: create(one)},
		{name: "cluster scope skips namespaced", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("false", rules(func() admissionregistrationv1.NamedRuleWithOperations {
			r := rule("deployments")
			r.Scope = ptr.To(admissionregistrationv1.ClusterScope)
			return r
		}()))}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf()}},
			a: create(one)},
		{name: "excluded", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("false", constraints(func(m *admissionregistrationv1.MatchResources) {
			m.ExcludeResourceRules = []admissionregistrationv1.NamedRuleWithOperations{rule("deployments")}
		}))}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf()}},
			a: create(one)},
		{name: "policy namespace selector does not match", f: fixture{namespaces: map[string]map[string]string{"ns": nil}, policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("false", constraints(func(m *admissionregistrationv1.MatchResources) { m.NamespaceSelector = labeled(team) }))}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf()}},
			a: create(one)},
		{name: "policy namespace selector matches", f: fixture{namespaces: map[string]map[string]string{"ns": team}, policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("namespaceObject.metadata.labels.team == 'b'", constraints(func(m *admissionregistrationv1.MatchResources) { m.NamespaceSelector = labeled(team) }))}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf()}},
			a: create(one), want: invalid("failed expression: namespaceObject.metadata.labels.team == 'b'")},
		{name: "binding namespace selector does not match", f: fixture{namespaces: map[string]map[string]string{"ns": {"team": "b"}}, policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("false")}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf(func(s *admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec) {
			s.MatchResources = &admissionregistrationv1.MatchResources{NamespaceSelector: labeled(team)}
		})}},
			a: create(one)},
		{name: "binding narrows resources", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("false")}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf(func(s *admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec) {
			s.MatchResources = &admissionregistrationv1.MatchResources{ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{rule("replicasets")}}
		})}},
			a: create(one)},
		{name: "namespace selector on a namespace uses its labels", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("namespaceObject == null && request.namespace == ''", rules(admissionregistrationv1.NamedRuleWithOperations{RuleWithOperations: admissionregistrationv1.RuleWithOperations{
			Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.OperationAll},
			Rule:       admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"*"}, Resources: []string{"namespaces"}, Scope: ptr.To(admissionregistrationv1.ClusterScope)},
		}}), constraints(func(m *admissionregistrationv1.MatchResources) { m.NamespaceSelector = labeled(team) }), withValidation(admissionregistrationv1.Validation{Expression: "false", MessageExpression: "object.kind + ' ' + object.metadata.name"}))}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf()}},
			a:    &admission.Attributes{Operation: admission.Create, Resource: namespaces, Object: &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "d", Labels: team}}},
			want: outcome{code: 422, reason: metav1.StatusReasonInvalid, message: `namespaces "d" is forbidden: ValidatingAdmissionPolicy 'p' with binding 'b' denied request: Namespace d`}},
		{name: "object selector matches the old object", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("oldObject.metadata.labels.team == object.metadata.labels.team", constraints(func(m *admissionregistrationv1.MatchResources) { m.ObjectSelector = labeled(team) }))}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf()}},
			a: update(deployment(1, map[string]string{"team": "b"}), deployment(1, team)), want: invalid("failed expression: oldObject.metadata.labels.team == object.metadata.labels.team")},
		{name: "object selector matches neither", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("false", constraints(func(m *admissionregistrationv1.MatchResources) { m.ObjectSelector = labeled(team) }))}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf()}},
			a: update(one, one)},
		{name: "request and oldObject on create", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("oldObject == null && request.operation == 'CREATE' && request.name == 'd' && request.namespace == 'ns' && request.kind.kind == 'Deployment' && request.resource.resource == 'deployments' && object.apiVersion == 'apps/v1' && !request.dryRun && request.userInfo.username == 'alice'")}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf()}},
			a: create(one)},
		{name: "custom resource", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("object.spec.size < 3", rules(admissionregistrationv1.NamedRuleWithOperations{RuleWithOperations: admissionregistrationv1.RuleWithOperations{
			Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
			Rule:       admissionregistrationv1.Rule{APIGroups: []string{"example.com"}, APIVersions: []string{"v1"}, Resources: []string{"widgets"}},
		}}))}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf()}},
			a: &admission.Attributes{Operation: admission.Create, Resource: schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}, Namespace: "ns",
				Object: &unstructured.Unstructured{Object: map[string]any{"apiVersion": "example.com/v1", "kind": "Widget", "metadata": map[string]any{"name": "d"}, "spec": map[string]any{"size": int64(5)}}}},
			want: outcome{code: 422, reason: metav1.StatusReasonInvalid, message: `widgets.example.com "d" is forbidden: ValidatingAdmissionPolicy 'p' with binding 'b' denied request: failed expression: object.spec.size < 3`}},
		{name: "cel extension libraries", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("object.metadata.name.upperAscii() == 'D' && 'a,b'.split(',').size() == 2 && sets.contains([1, 2], [1]) && [3, 1].sort() == [1, 3] && math.greatest(1, 2) == 2")}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf()}},
			a: create(one)},

		// Match conditions.
		{name: "match condition false skips", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("false", matchCondition("object.metadata.name == 'x'"))}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf()}},
			a: create(one)},
		{name: "match conditions true", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("false", matchCondition("object.metadata.name == 'd'"), matchCondition("true"))}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf()}},
			a: create(one), want: invalid("failed expression: false")},
		{name: "match condition error fails", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("true", matchCondition("object.nope == 1"))}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf()}},
			a: create(one), want: invalid(`failed to evaluate match condition "mc": expression 'object.nope == 1' resulted in error: no such key: nope`)},
		{name: "match condition error ignored", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("false", matchCondition("object.nope == 1"), failure(admissionregistrationv1.Ignore))}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf()}},
			a: create(one)},

		// Variables.
		{name: "variables in order", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("variables.odd", variables("replicas", "object.spec.replicas", "odd", "variables.replicas % 2 == 1"))}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf()}},
			a: update(deployment(2, nil), one), want: invalid("failed expression: variables.odd")},
		{name: "variables pass", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("variables.odd", variables("replicas", "object.spec.replicas", "odd", "variables.replicas % 2 == 1"))}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf()}},
			a: create(three)},
		{name: "unused failing variable is harmless", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("variables.ok", variables("bad", "object.nope", "ok", "true"))}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf()}},
			a: create(one)},
		{name: "used failing variable fails", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("variables.bad == 1", variables("bad", "object.nope"))}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf()}},
			a: create(one), want: invalid("expression 'variables.bad == 1' resulted in error: expression 'object.nope' resulted in error: no such key: nope")},

		// Failure policies and validation actions.
		{name: "compile error fails", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("object.spec.replicas >")}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf()}},
			a: create(one), want: prefixed(invalid("compilation error: "))},
		{name: "compile error ignored", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("object.spec.replicas >", failure(admissionregistrationv1.Ignore))}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf()}},
			a: create(one)},
		{name: "runtime error fails", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("object.spec.replicas > '1'")}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf()}},
			a: create(one), want: prefixed(invalid("expression 'object.spec.replicas > '1'' resulted in error: no such overload"))},
		{name: "non-bool result fails", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("object.spec.replicas")}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf()}},
			a: create(one), want: invalid("expression 'object.spec.replicas' resulted in error: expected bool, got int")},
		{name: "runtime error ignored, later validation still runs", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("", failure(admissionregistrationv1.Ignore), func(s *admissionregistrationv1.ValidatingAdmissionPolicySpec) {
			s.Validations = []admissionregistrationv1.Validation{{Expression: "object.nope"}, {Expression: replicasOver1}}
		})}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf()}},
			a: create(one), want: invalid("failed expression: object.spec.replicas > 1")},
		{name: "warn does not refuse", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("false")}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf(actions(admissionregistrationv1.Warn, admissionregistrationv1.Audit))}},
			a: create(one)},
		{name: "warn and deny refuses", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("false")}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf(actions(admissionregistrationv1.Warn, admissionregistrationv1.Deny))}},
			a: create(one), want: invalid("failed expression: false")},

		// Params.
		{name: "param by name", f: fixture{params: []runtime.Object{configMap("limits", nil, map[string]string{"max": "2"})}, policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("object.spec.replicas <= int(params.data.max)", cmParams)}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf(paramRef(admissionregistrationv1.ParamRef{Name: "limits"}))}},
			a: create(three), want: invalid("failed expression: object.spec.replicas <= int(params.data.max)")},
		{name: "param by name allows", f: fixture{params: []runtime.Object{configMap("limits", nil, map[string]string{"max": "5"})}, policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("object.spec.replicas <= int(params.data.max)", cmParams)}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf(paramRef(admissionregistrationv1.ParamRef{Name: "limits"}))}},
			a: create(three)},
		{name: "params by selector, each applies", f: fixture{params: []runtime.Object{configMap("a", team, map[string]string{"max": "5"}), configMap("b", team, map[string]string{"max": "2"}), configMap("c", nil, map[string]string{"max": "0"})}, policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("", cmParams, withValidation(admissionregistrationv1.Validation{Expression: "object.spec.replicas <= int(params.data.max)", MessageExpression: "'over ' + params.metadata.name"}))}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf(paramRef(admissionregistrationv1.ParamRef{Selector: labeled(team)}))}},
			a: create(three), want: invalid("over b")},
		{name: "param not found denies", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("true", cmParams)}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf(paramRef(admissionregistrationv1.ParamRef{Name: "limits"}))}},
			a: create(one), want: invalid("failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction")},
		{name: "param not found allowed", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("false", cmParams)}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf(paramRef(admissionregistrationv1.ParamRef{Name: "limits", ParameterNotFoundAction: ptr.To(admissionregistrationv1.AllowAction)}))}},
			a: create(one)},
		{name: "unknown param kind ignored", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("false", failure(admissionregistrationv1.Ignore), func(s *admissionregistrationv1.ValidatingAdmissionPolicySpec) {
			s.ParamKind = &admissionregistrationv1.ParamKind{APIVersion: "example.com/v1", Kind: "Limits"}
		})}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf(paramRef(admissionregistrationv1.ParamRef{Name: "limits"}))}},
			a: create(one)},
		{name: "no paramRef gives null params", f: fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("params != null", cmParams)}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf()}},
			a: create(one), want: invalid("failed expression: params != null")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := outcomeOf(t, tt.f.plugin().Admit(context.Background(), tt.a))
			if tt.want.prefix && strings.HasPrefix(got.message, tt.want.message) {
				got.message, got.prefix = tt.want.message, true
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(outcome{})); diff != "" {
				t.Errorf("Admit (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNoBindingsReadsNothingElse(t *testing.T) {
	src := fixture{}.sources()
	src.Policies = func(context.Context) ([]admissionregistrationv1.ValidatingAdmissionPolicy, error) {
		t.Error("policies listed without bindings")
		return nil, nil
	}
	if err := New(src).Admit(context.Background(), create(deployment(1, nil))); err != nil {
		t.Fatal(err)
	}
}

func TestStatusDetails(t *testing.T) {
	f := fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("false")}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf()}}
	a := create(&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{GenerateName: "web-", Namespace: "ns"}})
	err := f.plugin().Admit(context.Background(), a)
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		t.Fatalf("got %v, want a status error", err)
	}
	message := `deployments.apps "web-" is forbidden: ValidatingAdmissionPolicy 'p' with binding 'b' denied request: failed expression: false`
	want := &metav1.StatusDetails{Name: "web-", Group: "apps", Kind: "deployments",
		Causes: []metav1.StatusCause{{Message: strings.TrimPrefix(message, `deployments.apps "web-" is forbidden: `)}}}
	if diff := cmp.Diff(want, status.Status().Details); diff != "" {
		t.Errorf("details (-want +got):\n%s", diff)
	}
	if !apierrors.IsInvalid(err) {
		t.Errorf("IsInvalid(%v) = false", err)
	}
}

// TestProgramCache checks that a policy is compiled once per
// resourceVersion: an expression changed without a new resourceVersion
// is not seen, one with a new resourceVersion is.
func TestProgramCache(t *testing.T) {
	f := &fixture{policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("true")}, bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf()}}
	p := New(Sources{
		Policies: func(context.Context) ([]admissionregistrationv1.ValidatingAdmissionPolicy, error) {
			return f.policies, nil
		},
		Bindings: func(context.Context) ([]admissionregistrationv1.ValidatingAdmissionPolicyBinding, error) {
			return f.bindings, nil
		},
	})
	admit := func() error { return p.Admit(context.Background(), create(deployment(1, nil))) }
	if err := admit(); err != nil {
		t.Fatal(err)
	}
	f.policies = []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("false")}
	if err := admit(); err != nil {
		t.Fatalf("same resourceVersion recompiled: %v", err)
	}
	f.policies[0].ResourceVersion = "2"
	if err := admit(); !apierrors.IsInvalid(err) {
		t.Fatalf("new resourceVersion: got %v, want a refusal", err)
	}
	f.policies = []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("true")}
	f.policies[0].UID = types.UID("other")
	for range 2 { // the second prunes what the first left
		if err := admit(); err != nil {
			t.Fatal(err)
		}
	}
	if n := p.programs.Len(); n != 1 {
		t.Errorf("cache holds %d programs after the policy was replaced, want 1", n)
	}
}

func TestWarnActionWarnsTheClient(t *testing.T) {
	f := fixture{
		policies: []admissionregistrationv1.ValidatingAdmissionPolicy{policyOn("false")},
		bindings: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{bindingOf(func(s *admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec) {
			s.ValidationActions = []admissionregistrationv1.ValidationAction{admissionregistrationv1.Warn}
		})},
	}
	a := create(deployment(1, nil))
	if err := f.plugin().Admit(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	policy, binding := f.policies[0].Name, f.bindings[0].Name
	want := []string{"Validation failed for ValidatingAdmissionPolicy '" + policy + "' with binding '" + binding + "': failed expression: false"}
	if diff := cmp.Diff(want, a.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}
