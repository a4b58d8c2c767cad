package volumes

import (
	"context"
	"errors"
	"fmt"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
)

const (
	// defaultTokenExpiration is the lifetime asked for when the projection
	// names none, as the API defaults it.
	defaultTokenExpiration = int64(3600)
	// maxTokenAge is when a token is replaced whatever its lifetime, so
	// that long-lived (extended) tokens still rotate daily.
	maxTokenAge = 24 * time.Hour
)

// tokenKey is what a token is bound to and asked for with.
type tokenKey struct {
	podUID         types.UID
	namespace      string
	serviceAccount string
	audience       string
	expiration     int64
}

type cachedToken struct {
	token  string
	issued time.Time
	ttl    time.Duration
}

// refreshAt is when the token should be replaced: once 80% of its
// lifetime has passed, or after maxTokenAge.
func (t *cachedToken) refreshAt() time.Time {
	age := t.ttl * 8 / 10
	if age > maxTokenAge {
		age = maxTokenAge
	}
	return t.issued.Add(age)
}

// token returns a token for the pod's service account bound to the pod,
// from the cache while it is fresh. When a refresh fails the old token is
// used for as long as it is valid: the pod keeps working through a short
// API outage.
func (m *Manager) token(ctx context.Context, pod *corev1.Pod, tp *corev1.ServiceAccountTokenProjection) (string, error) {
	if m.opts.Client == nil {
		return "", errors.New("no API client to request service account tokens")
	}
	key := tokenKey{
		podUID:         pod.UID,
		namespace:      pod.Namespace,
		serviceAccount: pod.Spec.ServiceAccountName,
		audience:       tp.Audience,
		expiration:     defaultTokenExpiration,
	}
	if key.serviceAccount == "" {
		key.serviceAccount = "default"
	}
	if tp.ExpirationSeconds != nil {
		key.expiration = *tp.ExpirationSeconds
	}
	now := m.opts.Clock.Now()
	m.mu.Lock()
	cached := m.tokens[key]
	m.mu.Unlock()
	if cached != nil && now.Before(cached.refreshAt()) {
		return cached.token, nil
	}
	fresh, err := m.requestToken(ctx, pod, key)
	if err != nil {
		if cached != nil && now.Before(cached.issued.Add(cached.ttl)) {
			klog.FromContext(ctx).Info("Service account token refresh failed, using the current token", "pod", klog.KObj(pod), "serviceAccount", key.serviceAccount, "err", err)
			return cached.token, nil
		}
		return "", err
	}
	m.mu.Lock()
	m.tokens[key] = fresh
	m.mu.Unlock()
	return fresh.token, nil
}

func (m *Manager) requestToken(ctx context.Context, pod *corev1.Pod, key tokenKey) (*cachedToken, error) {
	expiration := key.expiration
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		ExpirationSeconds: &expiration,
		BoundObjectRef: &authenticationv1.BoundObjectReference{
			Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID,
		},
	}}
	if key.audience != "" {
		// No audience means the API server's own, which it fills in.
		req.Spec.Audiences = []string{key.audience}
	}
	issued := m.opts.Clock.Now()
	resp, err := m.opts.Client.CoreV1().ServiceAccounts(key.namespace).CreateToken(ctx, key.serviceAccount, req, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("request token for service account %s/%s: %w", key.namespace, key.serviceAccount, err)
	}
	if resp.Status.Token == "" {
		return nil, fmt.Errorf("request token for service account %s/%s: empty token in response", key.namespace, key.serviceAccount)
	}
	// The server may grant another lifetime than asked; it reports it in
	// the spec it returns.
	ttl := time.Duration(expiration) * time.Second
	if resp.Spec.ExpirationSeconds != nil && *resp.Spec.ExpirationSeconds > 0 {
		ttl = time.Duration(*resp.Spec.ExpirationSeconds) * time.Second
	}
	return &cachedToken{token: resp.Status.Token, issued: issued, ttl: ttl}, nil
}

// forgetTokens drops the tokens of a pod that is gone.
func (m *Manager) forgetTokens(podUID types.UID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.tokens {
		if k.podUID == podUID {
			delete(m.tokens, k)
		}
	}
}
