package serviceaccount

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
)

// Getter reads the objects a token names. Implementations return an error
// satisfying apierrors.IsNotFound for a missing object; a slightly stale
// read (a watch cache) is fine.
type Getter interface {
	GetServiceAccount(ctx context.Context, namespace, name string) (*corev1.ServiceAccount, error)
	GetPod(ctx context.Context, namespace, name string) (*corev1.Pod, error)
	GetSecret(ctx context.Context, namespace, name string) (*corev1.Secret, error)
	GetNode(ctx context.Context, name string) (*corev1.Node, error)
}

// Keys of User.Extra, as kube-apiserver names them.
const (
	ExtraPodName      = "authentication.kubernetes.io/pod-name"
	ExtraPodUID       = "authentication.kubernetes.io/pod-uid"
	ExtraNodeName     = "authentication.kubernetes.io/node-name"
	ExtraNodeUID      = "authentication.kubernetes.io/node-uid"
	ExtraCredentialID = "authentication.kubernetes.io/credential-id"
)

// User is who a valid token authenticates.
type User struct {
	Name   string
	UID    string
	Groups []string
	Extra  map[string][]string
}

// AuthenticatorOptions configures an Authenticator.
type AuthenticatorOptions struct {
	// Keys verify signatures; a token signed by any of them is genuine.
	// Required.
	Keys []crypto.PublicKey
	// Issuer is the "iss" of the tokens this authenticator takes; tokens
	// of other issuers are left to other authenticators. Default
	// DefaultIssuer.
	Issuer string
	// Audiences are the API server's: a token must name at least one.
	// Default [Issuer].
	Audiences []string
	// Getter looks up the service account and the bound object. Required.
	Getter Getter
	// Clock tells the time for expiry. Default the real clock.
	Clock clock.PassiveClock
}

// Authenticator validates service-account tokens. It is safe for
// concurrent use.
type Authenticator struct {
	opts AuthenticatorOptions
}

// leeway tolerates clock skew between the issuing and the validating
// server, as kube-apiserver does.
const leeway = time.Minute

// deletedGrace is how long a token still works after the deletion
// timestamp of its service account or bound object, as in kube-apiserver:
// a pod's containers may need the API during graceful termination.
const deletedGrace = 60 * time.Second

// NewAuthenticator returns an authenticator for opts.
func NewAuthenticator(opts AuthenticatorOptions) (*Authenticator, error) {
	if len(opts.Keys) == 0 {
		return nil, errors.New("service-account authenticator: no verification keys")
	}
	for _, k := range opts.Keys {
		if _, err := algorithmFor(k); err != nil {
			return nil, fmt.Errorf("service-account authenticator: %w", err)
		}
	}
	if opts.Getter == nil {
		return nil, errors.New("service-account authenticator: no Getter")
	}
	if opts.Issuer == "" {
		opts.Issuer = DefaultIssuer
	}
	if len(opts.Audiences) == 0 {
		opts.Audiences = []string{opts.Issuer}
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	return &Authenticator{opts: opts}, nil
}

// Authenticate returns the user a token authenticates. ok false with a nil
// error means the token is not one of ours (not a JWT, or another
// issuer's): another authenticator may know it. An error says why one of
// ours is refused.
func (a *Authenticator) Authenticate(ctx context.Context, token string) (*User, bool, error) {
	u, _, ok, err := a.AuthenticateFor(ctx, token, a.opts.Audiences)
	return u, ok, err
}

// AuthenticateFor is Authenticate for a caller that names the audiences
// it accepts (a TokenReview's spec.audiences) instead of the API server's;
// it also returns those of them the token names.
func (a *Authenticator) AuthenticateFor(ctx context.Context, token string, audiences []string) (*User, []string, bool, error) {
	u, matched, err := a.authenticate(ctx, token, audiences)
	return u, matched, u != nil, err
}

// MatchAudiences returns those of the accepted audiences a token names, in
// the order accepted lists them, and an error when it names none of them.
func MatchAudiences(accepted, named []string) ([]string, error) {
	var matched []string
	for _, aud := range accepted {
		if slices.Contains(named, aud) {
			matched = append(matched, aud)
		}
	}
	if len(matched) == 0 {
		return nil, errors.New("token audiences are not the API server's")
	}
	return matched, nil
}

// APIAudiences are the audiences the API server accepts.
func (a *Authenticator) APIAudiences() []string { return slices.Clone(a.opts.Audiences) }

func (a *Authenticator) authenticate(ctx context.Context, token string, audiences []string) (*User, []string, error) {
	j, err := parse(token)
	if err != nil {
		return nil, nil, nil
	}
	var claims Claims
	if err := json.Unmarshal(j.payload, &claims); err != nil || claims.Issuer != a.opts.Issuer {
		return nil, nil, nil
	}
	if err := a.verify(j); err != nil {
		return nil, nil, err
	}
	if err := a.checkTimes(&claims); err != nil {
		return nil, nil, err
	}
	matched, err := MatchAudiences(audiences, claims.Audience)
	if err != nil {
		return nil, nil, err
	}
	pc := claims.Kubernetes
	namespace, name, ok := splitUsername(claims.Subject)
	if !ok || pc == nil || pc.Namespace != namespace || pc.ServiceAccount.Name != name {
		return nil, nil, errors.New("token claims do not name a service account")
	}
	u := &User{
		Name:   claims.Subject,
		UID:    pc.ServiceAccount.UID,
		Groups: []string{AllServiceAccountsGroup, namespaceGroupPrefix + namespace},
		Extra:  map[string][]string{},
	}
	if err := a.checkBindings(ctx, namespace, pc, u); err != nil {
		return nil, nil, err
	}
	if claims.ID != "" {
		u.Extra[ExtraCredentialID] = []string{"JTI=" + claims.ID}
	}
	return u, matched, nil
}

func (a *Authenticator) verify(j *jws) error {
	var errs []error
	for _, k := range a.opts.Keys {
		if j.header.KeyID != "" {
			if id, err := KeyID(k); err == nil && id != j.header.KeyID {
				continue
			}
		}
		err := j.verify(k)
		if err == nil {
			return nil
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return errors.New("token is signed by an unknown key")
	}
	return fmt.Errorf("invalid token signature: %w", errors.Join(errs...))
}

func (a *Authenticator) checkTimes(c *Claims) error {
	now := a.opts.Clock.Now()
	switch {
	case c.Expiry == 0:
		return errors.New("token has no expiry")
	case now.Add(-leeway).After(time.Unix(c.Expiry, 0)):
		return errors.New("service account token has expired")
	case c.NotBefore != 0 && now.Add(leeway).Before(time.Unix(c.NotBefore, 0)):
		return errors.New("service account token is not valid yet")
	case c.IssuedAt != 0 && now.Add(leeway).Before(time.Unix(c.IssuedAt, 0)):
		return errors.New("service account token was issued in the future")
	}
	return nil
}

// errInvalidated is the answer for a token whose service account or bound
// object is gone or replaced.
var errInvalidated = errors.New("service account token has been invalidated")

// checkBindings checks that the service account and the bound object still
// exist, with the UIDs the token names, and records them in u.Extra.
func (a *Authenticator) checkBindings(ctx context.Context, namespace string, pc *PrivateClaims, u *User) error {
	now := a.opts.Clock.Now()
	sa, err := a.opts.Getter.GetServiceAccount(ctx, namespace, pc.ServiceAccount.Name)
	if err != nil {
		return fmt.Errorf("%w: service account %s/%s: %w", errInvalidated, namespace, pc.ServiceAccount.Name, err)
	}
	if err := alive(&sa.ObjectMeta, pc.ServiceAccount.UID, now); err != nil {
		return fmt.Errorf("%w: service account %s/%s %w", errInvalidated, namespace, sa.Name, err)
	}
	switch {
	case pc.Pod != nil:
		pod, err := a.opts.Getter.GetPod(ctx, namespace, pc.Pod.Name)
		if err != nil {
			return fmt.Errorf("%w: pod %s/%s: %w", errInvalidated, namespace, pc.Pod.Name, err)
		}
		if err := alive(&pod.ObjectMeta, pc.Pod.UID, now); err != nil {
			return fmt.Errorf("%w: pod %s/%s %w", errInvalidated, namespace, pod.Name, err)
		}
		u.Extra[ExtraPodName] = []string{pod.Name}
		u.Extra[ExtraPodUID] = []string{string(pod.UID)}
		// The pod's node is recorded, not checked: the pod is what the
		// token is bound to.
		if pc.Node != nil {
			setNodeExtra(u, pc.Node)
		}
	case pc.Secret != nil:
		secret, err := a.opts.Getter.GetSecret(ctx, namespace, pc.Secret.Name)
		if err != nil {
			return fmt.Errorf("%w: secret %s/%s: %w", errInvalidated, namespace, pc.Secret.Name, err)
		}
		if err := alive(&secret.ObjectMeta, pc.Secret.UID, now); err != nil {
			return fmt.Errorf("%w: secret %s/%s %w", errInvalidated, namespace, secret.Name, err)
		}
	case pc.Node != nil:
		node, err := a.opts.Getter.GetNode(ctx, pc.Node.Name)
		if err != nil {
			return fmt.Errorf("%w: node %s: %w", errInvalidated, pc.Node.Name, err)
		}
		if err := alive(&node.ObjectMeta, pc.Node.UID, now); err != nil {
			return fmt.Errorf("%w: node %s %w", errInvalidated, node.Name, err)
		}
		setNodeExtra(u, pc.Node)
	}
	return nil
}

func setNodeExtra(u *User, node *Ref) {
	u.Extra[ExtraNodeName] = []string{node.Name}
	if node.UID != "" {
		u.Extra[ExtraNodeUID] = []string{node.UID}
	}
}

// alive checks that an object is the one a token names (its UID, if the
// token names one) and not deleted for longer than deletedGrace.
func alive(meta *metav1.ObjectMeta, uid string, now time.Time) error {
	if uid != "" && meta.UID != types.UID(uid) {
		return fmt.Errorf("has UID %s, the token names %s", meta.UID, uid)
	}
	if dt := meta.DeletionTimestamp; dt != nil && dt.Add(deletedGrace).Before(now) {
		return fmt.Errorf("is being deleted since %s", dt.UTC().Format(time.RFC3339))
	}
	return nil
}
