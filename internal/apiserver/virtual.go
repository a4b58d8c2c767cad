package apiserver

import (
	"io"
	"net/http"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"

	"github.com/tugcluster/tug/internal/apiserver/filters"
)

// virtualHandler answers the review resources that are computed, never
// stored: until RBAC exists the only authenticated users are cluster
// admins, so every access review is allowed.
type virtualHandler struct {
	codecs serializer.CodecFactory
}

func newVirtualHandler(scheme *runtime.Scheme) *virtualHandler {
	return &virtualHandler{codecs: serializer.NewCodecFactory(scheme)}
}

const (
	pathSSAR = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
	pathSSR  = "/apis/authentication.k8s.io/v1/selfsubjectreviews"
)

func (v *virtualHandler) handles(r *http.Request) bool {
	return r.Method == http.MethodPost && (r.URL.Path == pathSSAR || r.URL.Path == pathSSR)
}

func (v *virtualHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	decoder := v.codecs.UniversalDeserializer()
	user, _ := filters.UserFrom(r.Context())
	var out runtime.Object
	switch r.URL.Path {
	case pathSSAR:
		review := &authorizationv1.SelfSubjectAccessReview{}
		if _, _, err := decoder.Decode(body, nil, review); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		review.Status = authorizationv1.SubjectAccessReviewStatus{Allowed: true, Reason: "member of " + filters.MastersGroup}
		out = review
	case pathSSR:
		review := &authenticationv1.SelfSubjectReview{}
		if len(body) > 0 {
			if _, _, err := decoder.Decode(body, nil, review); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
		}
		review.Status.UserInfo = authenticationv1.UserInfo{Username: user.Name, Groups: user.Groups}
		out = review
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
