package core

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/tugcluster/tug/internal/apiserver/registry"
)

// limitRangeStrategy defaults and validates limit ranges.
type limitRangeStrategy struct{ registry.DefaultStrategy }

// Default fills a container limit's default limit from its max, and its
// default request from the default limit or else the min.
func (limitRangeStrategy) Default(obj runtime.Object) {
	lr, ok := obj.(*corev1.LimitRange)
	if !ok {
		return
	}
	for i := range lr.Spec.Limits {
		item := &lr.Spec.Limits[i]
		if item.Type != corev1.LimitTypeContainer {
			continue
		}
		item.Default = fillFrom(item.Default, item.Max)
		item.DefaultRequest = fillFrom(item.DefaultRequest, item.Default)
		item.DefaultRequest = fillFrom(item.DefaultRequest, item.Min)
	}
}

// fillFrom copies into dst the resources of src that dst lacks.
func fillFrom(dst, src corev1.ResourceList) corev1.ResourceList {
	for name, q := range src {
		if _, ok := dst[name]; ok {
			continue
		}
		if dst == nil {
			dst = corev1.ResourceList{}
		}
		dst[name] = q.DeepCopy()
	}
	return dst
}

// Validate checks min <= defaultRequest <= default <= max per resource.
func (limitRangeStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	lr, ok := obj.(*corev1.LimitRange)
	if !ok {
		return wrongType(obj)
	}
	var errs field.ErrorList
	for i, item := range lr.Spec.Limits {
		p := field.NewPath("spec", "limits").Index(i)
		errs = append(errs, qualifiedName(string(item.Type), p.Child("type"))...)
		if item.Type == corev1.LimitTypePod {
			if len(item.Default) > 0 {
				errs = append(errs, field.Forbidden(p.Child("default"), "may not be set when `type` is Pod"))
			}
			if len(item.DefaultRequest) > 0 {
				errs = append(errs, field.Forbidden(p.Child("defaultRequest"), "may not be set when `type` is Pod"))
			}
		}
		lists := []struct {
			name string
			list corev1.ResourceList
		}{{"min", item.Min}, {"defaultRequest", item.DefaultRequest}, {"default", item.Default}, {"max", item.Max}}
		for _, l := range lists {
			errs = append(errs, nonNegativeQuantities(l.list, p.Child(l.name))...)
		}
		// Each list bounds the ones after it from below.
		for a := range lists {
			for b := a + 1; b < len(lists); b++ {
				for _, name := range sortedNames(lists[a].list) {
					lo := lists[a].list[name]
					if hi, ok := lists[b].list[name]; ok && lo.Cmp(hi) > 0 {
						errs = append(errs, field.Invalid(p.Child(lists[a].name).Key(string(name)), lo.String(),
							fmt.Sprintf("%s value %s is greater than %s value %s", lists[a].name, lo.String(), lists[b].name, hi.String())))
					}
				}
			}
		}
	}
	return errs
}

// ValidateUpdate implements registry.Strategy.
func (s limitRangeStrategy) ValidateUpdate(ctx context.Context, obj, _ runtime.Object) field.ErrorList {
	return s.Validate(ctx, obj)
}

var quotaScopes = []string{string(corev1.ResourceQuotaScopeTerminating), string(corev1.ResourceQuotaScopeNotTerminating),
	string(corev1.ResourceQuotaScopeBestEffort), string(corev1.ResourceQuotaScopeNotBestEffort),
	string(corev1.ResourceQuotaScopePriorityClass), string(corev1.ResourceQuotaScopeCrossNamespacePodAffinity),
	string(corev1.ResourceQuotaScopeVolumeAttributesClass)}

// quotaStrategy validates resource quotas.
type quotaStrategy struct{ registry.DefaultStrategy }

// Validate implements registry.Strategy.
func (quotaStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	q, ok := obj.(*corev1.ResourceQuota)
	if !ok {
		return wrongType(obj)
	}
	p := field.NewPath("spec")
	errs := nonNegativeQuantities(q.Spec.Hard, p.Child("hard"))
	for i, s := range q.Spec.Scopes {
		errs = append(errs, oneOf(p.Child("scopes").Index(i), string(s), quotaScopes)...)
	}
	if sel := q.Spec.ScopeSelector; sel != nil {
		for i, e := range sel.MatchExpressions {
			ep := p.Child("scopeSelector", "matchExpressions").Index(i)
			errs = append(errs, oneOf(ep.Child("scopeName"), string(e.ScopeName), quotaScopes)...)
			errs = append(errs, oneOf(ep.Child("operator"), string(e.Operator), []string{
				string(corev1.ScopeSelectorOpIn), string(corev1.ScopeSelectorOpNotIn),
				string(corev1.ScopeSelectorOpExists), string(corev1.ScopeSelectorOpDoesNotExist)})...)
		}
	}
	return errs
}

// ValidateUpdate implements registry.Strategy.
func (s quotaStrategy) ValidateUpdate(ctx context.Context, obj, _ runtime.Object) field.ErrorList {
	return s.Validate(ctx, obj)
}

func nonNegativeQuantities(list corev1.ResourceList, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, name := range sortedNames(list) {
		errs = append(errs, qualifiedName(string(name), p.Key(string(name)))...)
		if q := list[name]; q.Cmp(resource.Quantity{}) < 0 {
			errs = append(errs, field.Invalid(p.Key(string(name)), q.String(), "must be greater than or equal to 0"))
		}
	}
	return errs
}
