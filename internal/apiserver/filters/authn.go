package filters

import (
	"context"
	"crypto/subtle"
	"net/http"
	"slices"
	"strings"

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

// NodesGroup holds node agents, which join with the cluster's join token.
const NodesGroup = "system:nodes"

// TokenAuthenticator maps a bearer token to its user; ok is false for a
// token it does not know.
type TokenAuthenticator func(token string) (u User, ok bool)

// JoinToken authenticates the cluster's join token as a node agent.
func JoinToken(joinToken string) TokenAuthenticator {
	return func(token string) (User, bool) {
		if joinToken == "" || subtle.ConstantTimeCompare([]byte(token), []byte(joinToken)) != 1 {
			return User{}, false
		}
		return User{Name: "system:node:tug-agent", Groups: []string{NodesGroup, authenticatedGroup}}, true
	}
}

// Authenticate admits requests that present a client certificate verified
// by the TLS layer and belonging to system:masters, or a bearer token that
// tokens knows; public paths (health, version) need neither. Until RBAC
// exists every other caller is refused.
func Authenticate(next http.Handler, public func(path string) bool, tokens TokenAuthenticator, writeError ErrorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if bearer, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); found && tokens != nil {
			if u, ok := tokens(strings.TrimSpace(bearer)); ok {
				next.ServeHTTP(w, r.WithContext(WithUser(r.Context(), u)))
				return
			}
			writeError(w, r, apierrors.NewUnauthorized("Unauthorized"))
			return
		}
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
