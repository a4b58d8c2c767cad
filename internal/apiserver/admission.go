package apiserver

import (
	"context"
	"fmt"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tugcluster/tug/internal/admission"
	"github.com/tugcluster/tug/internal/admission/mutatingpolicy"
	"github.com/tugcluster/tug/internal/admission/policycel"
	"github.com/tugcluster/tug/internal/admission/validatingpolicy"
	"github.com/tugcluster/tug/internal/apiserver/filters"
	"github.com/tugcluster/tug/internal/apiserver/registry"
)

// admissionChain is the admission stage: the plugins that need only the
// API's own objects.
func admissionChain(stores map[schema.GroupVersionResource]*registry.Store) admission.Plugin {
	runtimeClasses := stores[nodev1.SchemeGroupVersion.WithResource("runtimeclasses")]
	serviceAccounts := stores[corev1.SchemeGroupVersion.WithResource("serviceaccounts")]
	limitRanges := stores[corev1.SchemeGroupVersion.WithResource("limitranges")]
	priorityClasses := stores[schedulingv1.SchemeGroupVersion.WithResource("priorityclasses")]
	quotas := stores[corev1.SchemeGroupVersion.WithResource("resourcequotas")]
	return admission.Chain{
		admission.Priority{List: func(ctx context.Context) ([]schedulingv1.PriorityClass, error) {
			list, err := priorityClasses.ListRecent(ctx, "")
			if err != nil {
				return nil, err
			}
			return list.(*schedulingv1.PriorityClassList).Items, nil
		}},
		admission.LimitRanger{List: func(ctx context.Context, namespace string) ([]corev1.LimitRange, error) {
			list, err := limitRanges.ListRecent(ctx, namespace)
			if err != nil {
				return nil, err
			}
			return list.(*corev1.LimitRangeList).Items, nil
		}},
		admission.ServiceAccount{Get: func(ctx context.Context, namespace, name string) (*corev1.ServiceAccount, error) {
			obj, err := serviceAccounts.GetRecent(ctx, namespace, name)
			if err != nil {
				return nil, err
			}
			return obj.(*corev1.ServiceAccount), nil
		}},
		admission.DefaultTolerationSeconds{
			NotReady: admission.DefaultNodeTolerationSeconds, Unreachable: admission.DefaultNodeTolerationSeconds,
		},
		admission.RuntimeClass{Get: func(ctx context.Context, name string) (*nodev1.RuntimeClass, error) {
			obj, err := runtimeClasses.GetRecent(ctx, "", name)
			if err != nil {
				return nil, err
			}
			rc, ok := obj.(*nodev1.RuntimeClass)
			if !ok {
				return nil, fmt.Errorf("stored runtime class is a %T", obj)
			}
			return rc, nil
		}},
		// After the built-in mutations, before anything validates: the
		// validating policies and quota see the mutated object.
		mutatingpolicy.New(mutatingPolicySources(stores)),
		validatingpolicy.New(validatingPolicySources(stores)),
		// Last: it charges quotas for what the plugins before it decided.
		admission.ResourceQuota{List: func(ctx context.Context, namespace string, fresh bool) ([]corev1.ResourceQuota, error) {
			opts := &metav1.ListOptions{ResourceVersion: "0"} // every create asks: serve it from memory
			if fresh {
				opts.ResourceVersion = ""
			}
			list, err := quotas.List(ctx, namespace, opts)
			if err != nil {
				return nil, err
			}
			return list.(*corev1.ResourceQuotaList).Items, nil
		}, UpdateStatus: func(ctx context.Context, q *corev1.ResourceQuota) error {
			_, _, err := quotas.Update(ctx, q.Namespace, q.Name, func(context.Context, runtime.Object) (runtime.Object, error) {
				// q's resourceVersion makes this a compare-and-swap; each
				// attempt gets its own copy, as the update changes (and
				// clears the resourceVersion of) what it is given.
				return q.DeepCopy(), nil
			}, registry.UpdateOptions{Subresource: "status"})
			return err
		}},
	}
}

// validatingPolicySources are what ValidatingAdmissionPolicies read: the
// policies, bindings and params from the watch caches (every write asks),
// namespaces, and the requesting user.
func validatingPolicySources(stores map[schema.GroupVersionResource]*registry.Store) validatingpolicy.Sources {
	vaps := stores[admissionregistrationv1.SchemeGroupVersion.WithResource("validatingadmissionpolicies")]
	vapBindings := stores[admissionregistrationv1.SchemeGroupVersion.WithResource("validatingadmissionpolicybindings")]
	r := newPolicyReaders(stores)
	return validatingpolicy.Sources{
		Policies: func(ctx context.Context) ([]admissionregistrationv1.ValidatingAdmissionPolicy, error) {
			list, err := listCached(ctx, vaps)
			if err != nil {
				return nil, err
			}
			return list.(*admissionregistrationv1.ValidatingAdmissionPolicyList).Items, nil
		},
		Bindings: func(ctx context.Context) ([]admissionregistrationv1.ValidatingAdmissionPolicyBinding, error) {
			list, err := listCached(ctx, vapBindings)
			if err != nil {
				return nil, err
			}
			return list.(*admissionregistrationv1.ValidatingAdmissionPolicyBindingList).Items, nil
		},
		Namespace: r.Namespace, Params: r.params, User: r.User,
	}
}

// mutatingPolicySources are what MutatingAdmissionPolicies read, from
// the same places as validatingPolicySources.
func mutatingPolicySources(stores map[schema.GroupVersionResource]*registry.Store) mutatingpolicy.Sources {
	mutatingPolicies := stores[admissionregistrationv1.SchemeGroupVersion.WithResource("mutatingadmissionpolicies")]
	mapBindings := stores[admissionregistrationv1.SchemeGroupVersion.WithResource("mutatingadmissionpolicybindings")]
	r := newPolicyReaders(stores)
	return mutatingpolicy.Sources{
		Policies: func(ctx context.Context) ([]admissionregistrationv1.MutatingAdmissionPolicy, error) {
			list, err := listCached(ctx, mutatingPolicies)
			if err != nil {
				return nil, err
			}
			return list.(*admissionregistrationv1.MutatingAdmissionPolicyList).Items, nil
		},
		Bindings: func(ctx context.Context) ([]admissionregistrationv1.MutatingAdmissionPolicyBinding, error) {
			list, err := listCached(ctx, mapBindings)
			if err != nil {
				return nil, err
			}
			return list.(*admissionregistrationv1.MutatingAdmissionPolicyBindingList).Items, nil
		},
		Namespace: r.Namespace, Params: r.params, User: r.User,
	}
}

// listCached lists every object of store from its watch cache (which
// keeps serving what it holds while the server shuts down).
func listCached(ctx context.Context, store *registry.Store) (runtime.Object, error) {
	return store.List(ctx, "", &metav1.ListOptions{ResourceVersion: "0"})
}

// policyReaders is what both kinds of admission policy read besides
// policies and bindings.
type policyReaders struct {
	policycel.RequestSources
	stores map[schema.GroupVersionResource]*registry.Store
}

func newPolicyReaders(stores map[schema.GroupVersionResource]*registry.Store) policyReaders {
	namespaces := stores[corev1.SchemeGroupVersion.WithResource("namespaces")]
	return policyReaders{stores: stores, RequestSources: policycel.RequestSources{
		Namespace: func(ctx context.Context, name string) (*corev1.Namespace, error) {
			obj, err := namespaces.GetRecent(ctx, "", name)
			if err != nil {
				return nil, err
			}
			return obj.(*corev1.Namespace), nil
		},
		User: func(ctx context.Context) (authenticationv1.UserInfo, bool) {
			u, ok := filters.UserFrom(ctx)
			if !ok {
				return authenticationv1.UserInfo{}, false
			}
			extra := make(map[string]authenticationv1.ExtraValue, len(u.Extra))
			for k, v := range u.Extra {
				extra[k] = v
			}
			return authenticationv1.UserInfo{Username: u.Name, UID: u.UID, Groups: u.Groups, Extra: extra}, true
		},
	}}
}

// params lists a paramKind's objects from the built-in resources
// (ConfigMaps and the like); custom resources are not served here.
func (r policyReaders) params(ctx context.Context, kind admissionregistrationv1.ParamKind, namespace string) ([]runtime.Object, bool, error) {
	gv, err := schema.ParseGroupVersion(kind.APIVersion)
	if err != nil {
		return nil, false, err
	}
	for gvr, store := range r.stores {
		if gvr.GroupVersion() != gv || store.Resource.Kind != kind.Kind {
			continue
		}
		if !store.Resource.Namespaced {
			namespace = ""
		} else if namespace == "" {
			return nil, true, nil
		}
		list, err := store.List(ctx, namespace, &metav1.ListOptions{ResourceVersion: "0"})
		if err != nil {
			return nil, false, err
		}
		items, err := meta.ExtractList(list)
		return items, store.Resource.Namespaced, err
	}
	return nil, false, apierrors.NewNotFound(gv.WithResource("").GroupResource(), kind.Kind)
}
