package serviceaccount

import (
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/uuid"
)

// Expiry extension, as kube-apiserver's --service-account-extend-token-
// expiration (on by default) does it: a pod-bound token for the API server
// requested for exactly WarnOnlyExpirationSeconds — what the kubelet asks
// for the kube-api-access volume — is valid for ExtendedExpirationSeconds,
// so that clients that never reload their token keep working, and carries
// a warnafter claim at the requested expiry.
const (
	WarnOnlyExpirationSeconds = 60*60 + 7
	ExtendedExpirationSeconds = 365 * 24 * 60 * 60
)

// Binding is what a token is bound to: a pod (and the node it runs on), a
// secret, or a node. Nil fields are unbound.
type Binding struct {
	Pod    *Ref
	Secret *Ref
	Node   *Ref
}

// Issuer signs service-account tokens. It is safe for concurrent use.
type Issuer struct {
	key       crypto.Signer
	keyID     string
	issuer    string
	audiences []string
}

// NewIssuer returns an issuer signing with key (ECDSA: ES256/384/512; RSA:
// RS256) as issuer (DefaultIssuer if empty). The issuer is also the API
// server's audience: tokens without explicit audiences are for it.
func NewIssuer(key crypto.Signer, issuer string) (*Issuer, error) {
	if key == nil {
		return nil, errors.New("service-account issuer: no signing key")
	}
	if _, err := algorithmFor(key.Public()); err != nil {
		return nil, fmt.Errorf("service-account issuer: %w", err)
	}
	keyID, err := KeyID(key.Public())
	if err != nil {
		return nil, fmt.Errorf("service-account issuer: %w", err)
	}
	if issuer == "" {
		issuer = DefaultIssuer
	}
	return &Issuer{key: key, keyID: keyID, issuer: issuer, audiences: []string{issuer}}, nil
}

// APIAudiences are the audiences the API server accepts, and the default
// audiences of a TokenRequest.
func (i *Issuer) APIAudiences() []string { return slices.Clone(i.audiences) }

// Issue returns a token for sa, bound as bound says, for audiences (the
// API audiences if empty), valid from now for expirationSeconds — or
// longer, see ExtendedExpirationSeconds — and its claims.
func (i *Issuer) Issue(sa *corev1.ServiceAccount, bound Binding, audiences []string, expirationSeconds int64, now time.Time) (string, *Claims, error) {
	if len(audiences) == 0 {
		audiences = i.audiences
	}
	exp, warnAfter := expirationSeconds, int64(0)
	if bound.Pod != nil && expirationSeconds == WarnOnlyExpirationSeconds && i.forAPI(audiences) {
		exp, warnAfter = ExtendedExpirationSeconds, now.Unix()+expirationSeconds
	}
	claims := &Claims{
		Audience:  slices.Clone(audiences),
		Expiry:    now.Unix() + exp,
		IssuedAt:  now.Unix(),
		Issuer:    i.issuer,
		ID:        string(uuid.NewUUID()),
		NotBefore: now.Unix(),
		Subject:   Username(sa.Namespace, sa.Name),
		Kubernetes: &PrivateClaims{
			Namespace:      sa.Namespace,
			ServiceAccount: Ref{Name: sa.Name, UID: string(sa.UID)},
			Pod:            bound.Pod,
			Secret:         bound.Secret,
			Node:           bound.Node,
			WarnAfter:      warnAfter,
		},
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", nil, fmt.Errorf("encode token claims: %w", err)
	}
	token, err := sign(i.key, i.keyID, payload)
	if err != nil {
		return "", nil, fmt.Errorf("sign token: %w", err)
	}
	return token, claims, nil
}

// forAPI reports whether every audience is one of the API server's.
func (i *Issuer) forAPI(audiences []string) bool {
	for _, a := range audiences {
		if !slices.Contains(i.audiences, a) {
			return false
		}
	}
	return true
}
