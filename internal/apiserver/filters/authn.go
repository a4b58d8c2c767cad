package filters

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/klog/v2"
)

// User is an authenticated caller.
type User struct {
	Name string
	// UID identifies the user across renames; service accounts have one.
	UID    string
	Groups []string
	// Extra is what the authenticator knows beyond name and groups (the
	// pod a service-account token is bound to, the credential's ID).
	Extra map[string][]string
}

// Info is u as the authentication API shows it (SelfSubjectReview).
func (u User) Info() authenticationv1.UserInfo {
	info := authenticationv1.UserInfo{Username: u.Name, UID: u.UID, Groups: u.Groups}
	for k, v := range u.Extra {
		if info.Extra == nil {
			info.Extra = map[string]authenticationv1.ExtraValue{}
		}
		info.Extra[k] = v
	}
	return info
}

type userKey struct{}

// inProcessUserKey marks a request made by the server's own clients
// through the in-memory loopback transport. Network requests cannot carry
// it: their contexts come from the server.
type inProcessUserKey struct{}

// WithInProcessUser returns ctx for a request the server makes to itself
// in memory, authenticated as u.
func WithInProcessUser(ctx context.Context, u User) context.Context {
	return context.WithValue(ctx, inProcessUserKey{}, u)
}

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

// AuthenticatedGroup is the group of every authenticated user.
const AuthenticatedGroup = "system:authenticated"

// extraCredentialID names the credential a request authenticated with, as
// kube-apiserver records it.
const extraCredentialID = "authentication.kubernetes.io/credential-id"

// ErrorWriter writes an error as a Status response.
type ErrorWriter func(w http.ResponseWriter, r *http.Request, err error)

// NodesGroup holds node agents, which join with the cluster's join token
// and then use client certificates with this organization.
const NodesGroup = "system:nodes"

// TokenAuthenticator maps a bearer token to its user. ok false with a nil
// error means the token is not one it knows, so another may; an error
// says why a token it knows is refused.
type TokenAuthenticator func(ctx context.Context, token string) (u User, ok bool, err error)

// JoinToken authenticates the cluster's join token as a node agent.
func JoinToken(joinToken string) TokenAuthenticator {
	return func(_ context.Context, token string) (User, bool, error) {
		if joinToken == "" || subtle.ConstantTimeCompare([]byte(token), []byte(joinToken)) != 1 {
			return User{}, false, nil
		}
		return User{Name: "system:node:tug-agent", Groups: []string{NodesGroup}}, true, nil
	}
}

// Tokens tries each authenticator in turn; the first that knows a token
// decides. Nil entries are skipped.
func Tokens(auths ...TokenAuthenticator) TokenAuthenticator {
	return func(ctx context.Context, token string) (User, bool, error) {
		for _, a := range auths {
			if a == nil {
				continue
			}
			if u, ok, err := a(ctx, token); ok || err != nil {
				return u, ok, err
			}
		}
		return User{}, false, nil
	}
}

// Authenticate identifies the caller of each request, in kube-apiserver's
// order: a client certificate the TLS layer verified against the cluster
// CA (user = CN, groups = O), else a bearer token that tokens knows. Every
// authenticated user is also in system:authenticated. Public paths
// (health, version) need neither; every other unauthenticated request,
// and every request with a bad credential, gets 401. Members of
// system:masters may impersonate another user.
func Authenticate(next http.Handler, public func(path string) bool, tokens TokenAuthenticator, writeError ErrorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok := r.Context().Value(inProcessUserKey{}).(User)
		if !ok {
			u, ok = certUser(r)
		}
		if !ok {
			bearer, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if found && tokens != nil {
				var err error
				u, ok, err = tokens(r.Context(), strings.TrimSpace(bearer))
				if !ok {
					// Refusing is this filter's decision, so it logs why.
					klog.FromContext(r.Context()).V(4).Info("Refused a bearer token", "path", r.URL.Path, "reason", err)
					writeError(w, r, apierrors.NewUnauthorized("Unauthorized"))
					return
				}
			}
		}
		if !ok {
			if public(r.URL.Path) {
				next.ServeHTTP(w, r)
				return
			}
			writeError(w, r, apierrors.NewUnauthorized("Unauthorized"))
			return
		}
		if !slices.Contains(u.Groups, AuthenticatedGroup) {
			u.Groups = append(slices.Clip(u.Groups), AuthenticatedGroup)
		}
		// Cluster admins may act as another user; nobody else may, until
		// RBAC can grant the impersonate verb.
		if as := r.Header.Get("Impersonate-User"); as != "" {
			if !slices.Contains(u.Groups, MastersGroup) {
				writeError(w, r, apierrors.NewForbidden(schema.GroupResource{Resource: "users"}, as,
					fmt.Errorf("user %q cannot impersonate resource \"users\" in API group \"\" at the cluster scope", u.Name)))
				return
			}
			u = User{Name: as, Groups: append(r.Header.Values("Impersonate-Group"), AuthenticatedGroup)}
		}
		next.ServeHTTP(w, r.WithContext(WithUser(r.Context(), u)))
	})
}

// certUser is the user of a verified client certificate: CN is the name,
// O the groups. A certificate without a CN names nobody.
func certUser(r *http.Request) (User, bool) {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
		return User{}, false
	}
	cert := r.TLS.VerifiedChains[0][0]
	if cert.Subject.CommonName == "" {
		return User{}, false
	}
	sum := sha256.Sum256(cert.Raw)
	return User{
		Name:   cert.Subject.CommonName,
		Groups: slices.Clone(cert.Subject.Organization),
		Extra:  map[string][]string{extraCredentialID: {"X509SHA256=" + hex.EncodeToString(sum[:])}},
	}, true
}
