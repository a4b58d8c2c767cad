package filters

import (
	"context"
	"net/http"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// User is an authenticated caller.
type User struct {
	Name   string
	Groups []string
}

type userKey struct{}

// WithUser returns ctx carrying u.
func WithUser(ctx context.Context, u User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// UserFrom returns the user of a request, if authenticated.
func UserFrom(ctx context.Context) (User, bool) {
	u, ok := ctx.Value(userKey{}).(User)
	return u, ok
}

// MastersGroup is the group whose members may do anything.
const MastersGroup = "system:masters"

// authenticatedGroup is the group of every authenticated user.
const authenticatedGroup = "system:authenticated"

// ErrorWriter writes an error as a Status response.
type ErrorWriter func(w http.ResponseWriter, r *http.Request, err error)

// Authenticate admits requests that present a client certificate verified
// by the TLS layer and belonging to system:masters; public paths (health,
// version) need none. Until RBAC exists every other caller is refused.
func Authenticate(next http.Handler, public func(path string) bool, writeError ErrorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 && len(r.TLS.VerifiedChains[0]) > 0 {
			cert := r.TLS.VerifiedChains[0][0]
			u := User{Name: cert.Subject.CommonName, Groups: cert.Subject.Organization}
			if slices.Contains(u.Groups, MastersGroup) {
				u.Groups = append(u.Groups, authenticatedGroup)
				// Cluster admins may act as another user.
				if as := r.Header.Get("Impersonate-User"); as != "" {
					u = User{Name: as, Groups: append(r.Header.Values("Impersonate-Group"), authenticatedGroup)}
				}
				next.ServeHTTP(w, r.WithContext(WithUser(r.Context(), u)))
				return
			}
		}
		if public(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		writeError(w, r, apierrors.NewUnauthorized("Unauthorized"))
	})
}
