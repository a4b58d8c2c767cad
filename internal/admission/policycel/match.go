package policycel

import (
	"context"
	"fmt"
	"slices"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Matches reports whether mr selects the request: its namespace and object
// selectors, then its excluded and included resource rules. No resource
// rules select every resource (a binding's matchResources narrows its
// policy's this way). Equivalent versions of a resource are not matched:
// tug serves each resource in one version.
func (r *Request) Matches(ctx context.Context, mr *admissionregistrationv1.MatchResources) (bool, error) {
	ok, err := r.namespaceMatches(ctx, mr.NamespaceSelector)
	if err != nil || !ok {
		return false, err
	}
	if ok, err = objectMatches(r, mr.ObjectSelector); err != nil || !ok {
		return false, err
	}
	for i := range mr.ExcludeResourceRules {
		if ruleMatches(&mr.ExcludeResourceRules[i], r) {
			return false, nil
		}
	}
	if len(mr.ResourceRules) == 0 {
		return true, nil
	}
	for i := range mr.ResourceRules {
		if ruleMatches(&mr.ResourceRules[i], r) {
			return true, nil
		}
	}
	return false, nil
}

// Selects reports whether a binding applies to the request: its policy's
// matchConstraints (a policy without them matches nothing) and the
// binding's own matchResources, when set, must both match. A selector that
// cannot be evaluated comes back as the problem, worded as upstream words
// it, for the caller's failure policy.
func (r *Request) Selects(ctx context.Context, constraints, bindingResources *admissionregistrationv1.MatchResources) (bool, string) {
	if constraints == nil {
		return false, ""
	}
	ok, err := r.Matches(ctx, constraints)
	if err != nil {
		return false, fmt.Sprintf("failed to configure policy: %v", err)
	}
	if !ok || bindingResources == nil {
		return ok, ""
	}
	if ok, err = r.Matches(ctx, bindingResources); err != nil {
		return false, fmt.Sprintf("failed to configure binding: %v", err)
	}
	return ok, ""
}

// Selector parses s; nil selects everything, as an empty selector does.
func Selector(s *metav1.LabelSelector) (labels.Selector, error) {
	if s == nil {
		return labels.Everything(), nil
	}
	sel, err := metav1.LabelSelectorAsSelector(s)
	if err != nil {
		return nil, fmt.Errorf("invalid label selector: %w", err)
	}
	return sel, nil
}

// IsNamespace reports whether the request writes a Namespace, which a
// namespaceSelector matches by its own labels.
func (r *Request) IsNamespace() bool {
	return r.Resource.Group == "" && r.Resource.Resource == "namespaces"
}

func (r *Request) namespaceMatches(ctx context.Context, s *metav1.LabelSelector) (bool, error) {
	sel, err := Selector(s)
	if err != nil || sel.Empty() {
		return err == nil, err
	}
	if r.IsNamespace() {
		l := r.labels
		if r.Attrs.Object == nil {
			l = r.oldLabels
		}
		return sel.Matches(labels.Set(l)), nil
	}
	if r.Attrs.Namespace == "" {
		return true, nil // cluster-scoped: namespace selectors do not apply
	}
	ns, err := r.Namespace(ctx)
	if err != nil {
		return false, err
	}
	if ns == nil {
		return false, nil
	}
	return sel.Matches(labels.Set(ns.Labels)), nil
}

// objectMatches: the new or the old object must carry matching labels.
func objectMatches(r *Request, s *metav1.LabelSelector) (bool, error) {
	sel, err := Selector(s)
	if err != nil || sel.Empty() {
		return err == nil, err
	}
	if r.Attrs.Object != nil && sel.Matches(labels.Set(r.labels)) {
		return true, nil
	}
	return r.Attrs.Old != nil && sel.Matches(labels.Set(r.oldLabels)), nil
}

// ruleMatches applies one resource rule: operations, groups, versions,
// resources ("*", "res/sub", "*/sub", "res/*"), resource names and scope.
func ruleMatches(rule *admissionregistrationv1.NamedRuleWithOperations, r *Request) bool {
	if !anyOf(rule.Operations, admissionregistrationv1.OperationType(r.Attrs.Operation), admissionregistrationv1.OperationAll) ||
		!anyOf(rule.APIGroups, r.Resource.Group, "*") ||
		!anyOf(rule.APIVersions, r.Resource.Version, "*") {
		return false
	}
	resourceOK := false
	for _, res := range rule.Resources {
		main, sub, _ := strings.Cut(res, "/")
		if (main == "*" || main == r.Resource.Resource) && (sub == "*" || sub == r.Attrs.Subresource) {
			resourceOK = true
			break
		}
	}
	if !resourceOK {
		return false
	}
	if len(rule.ResourceNames) > 0 && !slices.Contains(rule.ResourceNames, r.name) {
		return false
	}
	clusterScoped := r.Attrs.Namespace == "" || r.IsNamespace()
	switch {
	case rule.Scope == nil || *rule.Scope == admissionregistrationv1.AllScopes:
		return true
	case *rule.Scope == admissionregistrationv1.ClusterScope:
		return clusterScoped
	case *rule.Scope == admissionregistrationv1.NamespacedScope:
		return !clusterScoped
	}
	return false
}

// anyOf reports whether list holds want or the wildcard.
func anyOf[T comparable](list []T, want, wildcard T) bool {
	for _, v := range list {
		if v == want || v == wildcard {
			return true
		}
	}
	return false
}
