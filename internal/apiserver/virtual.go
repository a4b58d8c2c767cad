package apiserver

import (
	"io"
	"net/http"
	"slices"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"

	"github.com/tugcluster/tug/internal/apiserver/endpoints"
	"github.com/tugcluster/tug/internal/apiserver/filters"
)

// virtualHandler answers the review resources that are computed, never
// stored. Until RBAC exists, members of system:masters may do anything and
// nobody else anything.
type virtualHandler struct {
	codecs serializer.CodecFactory
}

func newVirtualHandler(scheme *runtime.Scheme) *virtualHandler {
	return &virtualHandler{codecs: serializer.NewCodecFactory(scheme)}
}

// reviews maps group/resource to the function answering it.
var reviews = map[string]func(r *http.Request, body []byte, d runtime.Decoder) (runtime.Object, error){
	"authorization.k8s.io/selfsubjectaccessreviews":  selfSubjectAccessReview,
	"authorization.k8s.io/subjectaccessreviews":      subjectAccessReview,
	"authorization.k8s.io/localsubjectaccessreviews": localSubjectAccessReview,
	"authorization.k8s.io/selfsubjectrulesreviews":   selfSubjectRulesReview,
	"authentication.k8s.io/selfsubjectreviews":       selfSubjectReview,
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
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	out, err := reviews[key](r, body, v.codecs.UniversalDeserializer())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	data, err := runtime.Encode(v.codecs.LegacyCodec(authorizationv1.SchemeGroupVersion, authenticationv1.SchemeGroupVersion), out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", runtime.ContentTypeJSON)
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(data)
}

// decision is the answer for a subject with groups.
func decision(groups []string) authorizationv1.SubjectAccessReviewStatus {
	if slices.Contains(groups, filters.MastersGroup) {
		return authorizationv1.SubjectAccessReviewStatus{Allowed: true, Reason: "member of " + filters.MastersGroup}
	}
	return authorizationv1.SubjectAccessReviewStatus{Reason: "only members of " + filters.MastersGroup + " are authorized until RBAC is served"}
}

func decode(body []byte, d runtime.Decoder, into runtime.Object) error {
	if len(body) == 0 {
		return nil
	}
	_, _, err := d.Decode(body, nil, into)
	return err
}

func selfSubjectAccessReview(r *http.Request, body []byte, d runtime.Decoder) (runtime.Object, error) {
	review := &authorizationv1.SelfSubjectAccessReview{}
	if err := decode(body, d, review); err != nil {
		return nil, err
	}
	user, _ := filters.UserFrom(r.Context())
	review.Status = decision(user.Groups)
	return review, nil
}

func subjectAccessReview(_ *http.Request, body []byte, d runtime.Decoder) (runtime.Object, error) {
	review := &authorizationv1.SubjectAccessReview{}
	if err := decode(body, d, review); err != nil {
		return nil, err
	}
	review.Status = decision(review.Spec.Groups)
	return review, nil
}

func localSubjectAccessReview(_ *http.Request, body []byte, d runtime.Decoder) (runtime.Object, error) {
	review := &authorizationv1.LocalSubjectAccessReview{}
	if err := decode(body, d, review); err != nil {
		return nil, err
	}
	review.Status = decision(review.Spec.Groups)
	return review, nil
}

func selfSubjectRulesReview(r *http.Request, body []byte, d runtime.Decoder) (runtime.Object, error) {
	review := &authorizationv1.SelfSubjectRulesReview{}
	if err := decode(body, d, review); err != nil {
		return nil, err
	}
	user, _ := filters.UserFrom(r.Context())
	if slices.Contains(user.Groups, filters.MastersGroup) {
		review.Status.ResourceRules = []authorizationv1.ResourceRule{{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}}}
		review.Status.NonResourceRules = []authorizationv1.NonResourceRule{{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}}}
	}
	return review, nil
}

func selfSubjectReview(r *http.Request, body []byte, d runtime.Decoder) (runtime.Object, error) {
	review := &authenticationv1.SelfSubjectReview{}
	if err := decode(body, d, review); err != nil {
		return nil, err
	}
	user, _ := filters.UserFrom(r.Context())
	review.Status.UserInfo = user.Info()
	return review, nil
}
