package apiserver

import (
	"net/http"
	"slices"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tugcluster/tug/internal/apiserver/endpoints"
	"github.com/tugcluster/tug/internal/apiserver/filters"
)

// virtualHandler answers the review resources that are computed, never
// stored: access, rules, self-subject and token reviews. Until RBAC
// exists, members of system:masters may do anything and nobody else
// anything. Requests and answers are decoded and encoded as
// the resource endpoints do (JSON, YAML or protobuf, Status errors).
type virtualHandler struct {
	resources *endpoints.Handler
	// tokens answers TokenReviews.
	tokens tokenReviewer
}

func newVirtualHandler(resources *endpoints.Handler) *virtualHandler {
	return &virtualHandler{resources: resources}
}

// review is one computed resource: its kind and how it is answered.
type review struct {
	gvk    schema.GroupVersionKind
	new    func() runtime.Object
	answer func(v *virtualHandler, r *http.Request, obj runtime.Object) error
}

// reviews maps group/resource to its review.
var reviews = map[string]review{
	"authorization.k8s.io/selfsubjectaccessreviews": {
		gvk: authorizationv1.SchemeGroupVersion.WithKind("SelfSubjectAccessReview"),
		new: func() runtime.Object { return &authorizationv1.SelfSubjectAccessReview{} },
		answer: func(_ *virtualHandler, r *http.Request, obj runtime.Object) error {
			user, _ := filters.UserFrom(r.Context())
			obj.(*authorizationv1.SelfSubjectAccessReview).Status = decision(user.Groups)
			return nil
		},
	},
	"authorization.k8s.io/subjectaccessreviews": {
		gvk: authorizationv1.SchemeGroupVersion.WithKind("SubjectAccessReview"),
		new: func() runtime.Object { return &authorizationv1.SubjectAccessReview{} },
		answer: func(_ *virtualHandler, _ *http.Request, obj runtime.Object) error {
			review := obj.(*authorizationv1.SubjectAccessReview)
			review.Status = decision(review.Spec.Groups)
			return nil
		},
	},
	"authorization.k8s.io/localsubjectaccessreviews": {
		gvk: authorizationv1.SchemeGroupVersion.WithKind("LocalSubjectAccessReview"),
		new: func() runtime.Object { return &authorizationv1.LocalSubjectAccessReview{} },
		answer: func(_ *virtualHandler, _ *http.Request, obj runtime.Object) error {
			review := obj.(*authorizationv1.LocalSubjectAccessReview)
			review.Status = decision(review.Spec.Groups)
			return nil
		},
	},
	"authorization.k8s.io/selfsubjectrulesreviews": {
		gvk: authorizationv1.SchemeGroupVersion.WithKind("SelfSubjectRulesReview"),
		new: func() runtime.Object { return &authorizationv1.SelfSubjectRulesReview{} },
		answer: func(_ *virtualHandler, r *http.Request, obj runtime.Object) error {
			review := obj.(*authorizationv1.SelfSubjectRulesReview)
			user, _ := filters.UserFrom(r.Context())
			if slices.Contains(user.Groups, filters.MastersGroup) {
				review.Status.ResourceRules = []authorizationv1.ResourceRule{{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}}}
				review.Status.NonResourceRules = []authorizationv1.NonResourceRule{{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}}}
			}
			return nil
		},
	},
	"authentication.k8s.io/tokenreviews": {
		gvk: authenticationv1.SchemeGroupVersion.WithKind("TokenReview"),
		new: func() runtime.Object { return &authenticationv1.TokenReview{} },
		answer: func(v *virtualHandler, r *http.Request, obj runtime.Object) error {
			review := obj.(*authenticationv1.TokenReview)
			if review.Spec.Token == "" {
				return apierrors.NewBadRequest("token is required for TokenReview in authentication")
			}
			if v.tokens == nil {
				return apierrors.NewServiceUnavailable("no token authenticator is configured")
			}
			u, valid, ok, err := v.tokens(r.Context(), review.Spec.Token, review.Spec.Audiences)
			review.Status = authenticationv1.TokenReviewStatus{Authenticated: ok}
			switch {
			case ok:
				review.Status.User = u.Info()
				review.Status.User.Groups = append(slices.Clip(u.Groups), filters.AuthenticatedGroup)
				review.Status.Audiences = valid
			case err != nil:
				review.Status.Error = err.Error()
			default:
				review.Status.Error = "invalid bearer token"
			}
			return nil
		},
	},
	"authentication.k8s.io/selfsubjectreviews": {
		gvk: authenticationv1.SchemeGroupVersion.WithKind("SelfSubjectReview"),
		new: func() runtime.Object { return &authenticationv1.SelfSubjectReview{} },
		answer: func(_ *virtualHandler, r *http.Request, obj runtime.Object) error {
			user, _ := filters.UserFrom(r.Context())
			obj.(*authenticationv1.SelfSubjectReview).Status.UserInfo = user.Info()
			return nil
		},
	},
}

func reviewKey(r *http.Request) (string, bool) {
	info := endpoints.RequestInfoFor(r)
	if !info.IsResourceRequest || info.Verb != "create" || info.Name != "" || info.APIVersion != "v1" {
		return "", false
	}
	key := info.APIGroup + "/" + info.Resource
	_, ok := reviews[key]
	return key, ok
}

// selfReview reports a review about the caller itself, which any
// authenticated user may ask.
func (v *virtualHandler) selfReview(r *http.Request) bool {
	key, ok := reviewKey(r)
	return ok && (key == "authorization.k8s.io/selfsubjectaccessreviews" ||
		key == "authorization.k8s.io/selfsubjectrulesreviews" || key == "authentication.k8s.io/selfsubjectreviews")
}

func (v *virtualHandler) handles(r *http.Request) bool {
	_, ok := reviewKey(r)
	return ok
}

func (v *virtualHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key, _ := reviewKey(r)
	rev := reviews[key]
	obj, err := v.resources.DecodeComputed(w, r, rev.gvk, rev.new)
	if err != nil {
		v.resources.WriteError(w, r, err)
		return
	}
	if err := rev.answer(v, r, obj); err != nil {
		v.resources.WriteError(w, r, err)
		return
	}
	v.resources.RespondComputed(w, r, http.StatusCreated, obj, rev.gvk.GroupVersion())
}

// decision is the answer for a subject with groups.
func decision(groups []string) authorizationv1.SubjectAccessReviewStatus {
	if slices.Contains(groups, filters.MastersGroup) {
		return authorizationv1.SubjectAccessReviewStatus{Allowed: true, Reason: "member of " + filters.MastersGroup}
	}
	return authorizationv1.SubjectAccessReviewStatus{Reason: "only members of " + filters.MastersGroup + " are authorized until RBAC is served"}
}
