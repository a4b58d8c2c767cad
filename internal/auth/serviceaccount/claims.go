package serviceaccount

import (
	"encoding/json"
	"strings"
)

// DefaultIssuer is the "iss" of the tokens and, by default, the one
// audience the API server accepts: kube-apiserver's usual
// --service-account-issuer.
const DefaultIssuer = "https://kubernetes.default.svc.cluster.local"

// Claims is the payload of a service-account token. Fields are in the
// order kube-apiserver writes them (alphabetical), which makes tokens
// easy to compare by eye.
type Claims struct {
	Audience   Audience       `json:"aud,omitempty"`
	Expiry     int64          `json:"exp,omitempty"`
	IssuedAt   int64          `json:"iat,omitempty"`
	Issuer     string         `json:"iss,omitempty"`
	ID         string         `json:"jti,omitempty"`
	Kubernetes *PrivateClaims `json:"kubernetes.io,omitempty"`
	NotBefore  int64          `json:"nbf,omitempty"`
	Subject    string         `json:"sub,omitempty"`
}

// PrivateClaims is the "kubernetes.io" claim: which service account the
// token is for and which object, if any, it is bound to. A bound token
// dies with its object.
type PrivateClaims struct {
	Namespace      string `json:"namespace,omitempty"`
	Node           *Ref   `json:"node,omitempty"`
	Pod            *Ref   `json:"pod,omitempty"`
	Secret         *Ref   `json:"secret,omitempty"`
	ServiceAccount Ref    `json:"serviceaccount"`
	// WarnAfter is set on tokens whose expiry was extended (see
	// ExtendedExpirationSeconds): after it, the token still works but its
	// holder should have fetched a fresh one.
	WarnAfter int64 `json:"warnafter,omitempty"`
}

// Ref names an object by name and UID.
type Ref struct {
	Name string `json:"name,omitempty"`
	UID  string `json:"uid,omitempty"`
}

// Audience is the "aud" claim: written as an array, read as an array or,
// as RFC 7519 allows, a single string.
type Audience []string

// UnmarshalJSON accepts a string or an array of strings.
func (a *Audience) UnmarshalJSON(data []byte) error {
	var one string
	if err := json.Unmarshal(data, &one); err == nil {
		*a = Audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(data, &many); err != nil {
		return err
	}
	*a = many
	return nil
}

// Username is the user a service account authenticates as.
func Username(namespace, name string) string {
	return usernamePrefix + namespace + ":" + name
}

const usernamePrefix = "system:serviceaccount:"

// Groups of service-account users, as Kubernetes names them.
const (
	AllServiceAccountsGroup = "system:serviceaccounts"
	namespaceGroupPrefix    = "system:serviceaccounts:"
)

// splitUsername returns the namespace and name of a service-account user.
func splitUsername(user string) (namespace, name string, ok bool) {
	rest, ok := strings.CutPrefix(user, usernamePrefix)
	if !ok {
		return "", "", false
	}
	namespace, name, ok = strings.Cut(rest, ":")
	if !ok || namespace == "" || name == "" || strings.Contains(name, ":") {
		return "", "", false
	}
	return namespace, name, true
}
