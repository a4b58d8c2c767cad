package filters

import (
	"fmt"
	"net/http"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Authorize lets members of system:masters do anything and refuses every
// other user with 403 Forbidden, until RBAC is served. Node agents
// (system:nodes, authenticated by the join token) are let through too
// until the node authorizer exists: the join token is a cluster secret. Public paths and
// the self reviews (which answer about the caller) are open to any
// authenticated user.
func Authorize(next http.Handler, public func(*http.Request) bool, writeError ErrorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok := UserFrom(r.Context())
		if !ok || slices.Contains(u.Groups, MastersGroup) || slices.Contains(u.Groups, NodesGroup) || public(r) {
			next.ServeHTTP(w, r)
			return
		}
		writeError(w, r, apierrors.NewForbidden(schema.GroupResource{}, "",
			fmt.Errorf("user %q cannot %s %s: only members of %s are authorized", u.Name, r.Method, r.URL.Path, MastersGroup)))
	})
}
