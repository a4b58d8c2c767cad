package integration

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/tugcluster/tug/internal/testutil"
)

// jwtParts decodes a JWT's header and claims without verifying it.
func jwtParts(t *testing.T, token string) (header map[string]any, claims map[string]any) {
	t.Helper()
	parts := strings.Split(strings.TrimSpace(token), ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	for i, into := range []*map[string]any{&header, &claims} {
		data, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatalf("JWT part %d: %v", i, err)
		}
		if err := json.Unmarshal(data, into); err != nil {
			t.Fatalf("JWT part %d: %v", i, err)
		}
	}
	return header, claims
}

// tokenClient is a client that authenticates with token only.
func tokenClient(t *testing.T, s *testutil.Server, token string) kubernetes.Interface {
	t.Helper()
	cfg := &rest.Config{Host: s.URL, BearerToken: token, TLSClientConfig: rest.TLSClientConfig{CAData: s.Config.CAData}}
	return kubernetes.NewForConfigOrDie(cfg)
}

// kubectlWithToken runs kubectl with a bearer token and no client
// certificate (a client certificate would authenticate first).
func kubectlWithToken(t *testing.T, s *testutil.Server, kubectl, token string, args ...string) (string, error) {
	t.Helper()
	ca := filepath.Join(s.DataDir, "server", "tls", "ca.crt")
	return s.RunKubectl(t, kubectl, "", append([]string{"--kubeconfig=/dev/null", "--server=" + s.URL, "--certificate-authority=" + ca, "--token=" + token}, args...)...)
}

// waitForDefaultServiceAccount waits for the controller to create the
// default namespace's default ServiceAccount.
func waitForDefaultServiceAccount(ctx context.Context, t *testing.T, s *testutil.Server) *corev1.ServiceAccount {
	const namespace, name = "default", "default"
	t.Helper()
	var sa *corev1.ServiceAccount
	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		var err error
		sa, err = s.Client.CoreV1().ServiceAccounts(namespace).Get(ctx, name, metav1.GetOptions{})
		return err == nil, nil
	})
	if err != nil {
		t.Fatalf("service account %s/%s never appeared: %v", namespace, name, err)
	}
	return sa
}

// TestCreateToken checks kubectl create token against the TokenRequest
// endpoint: the claims, and that a token for another audience does not
// open the API.
func TestCreateToken(t *testing.T) {
	s := testutil.StartServer(t)
	ctx := context.Background()
	sa := waitForDefaultServiceAccount(ctx, t, s)
	kubectl := testutil.Kubectl(t, "1.33")

	start := time.Now().Unix()
	out, err := s.RunKubectl(t, kubectl, "", "create", "token", "default", "--audience", "x", "--duration", "10m")
	if err != nil {
		t.Fatalf("kubectl create token: %v\n%s", err, out)
	}
	token := strings.TrimSpace(out)
	header, claims := jwtParts(t, token)
	if header["alg"] != "ES256" || header["kid"] == "" {
		t.Errorf("header %v, want ES256 with a kid", header)
	}
	iat, exp, nbf := claims["iat"].(float64), claims["exp"].(float64), claims["nbf"].(float64)
	if int64(iat) < start-1 || exp-iat != 600 || nbf != iat {
		t.Errorf("iat %v exp %v nbf %v, want exp = iat + 600 = nbf + 600, iat >= %d", iat, exp, nbf, start)
	}
	want := map[string]any{
		"aud": []any{"x"},
		"iss": "https://kubernetes.default.svc.cluster.local",
		"sub": "system:serviceaccount:default:default",
		"kubernetes.io": map[string]any{
			"namespace":      "default",
			"serviceaccount": map[string]any{"name": "default", "uid": string(sa.UID)},
		},
	}
	for k, v := range want {
		if got, _ := json.Marshal(claims[k]); string(got) != mustJSON(t, v) {
			t.Errorf("claim %s = %s, want %s", k, got, mustJSON(t, v))
		}
	}
	if jti, _ := claims["jti"].(string); len(jti) != 36 {
		t.Errorf("jti %q is not a UUID", jti)
	}
	// The token is for audience x, not for the API server.
	if _, err := tokenClient(t, s, token).CoreV1().Pods("default").List(ctx, metav1.ListOptions{}); !apierrors.IsUnauthorized(err) {
		t.Errorf("API request with a token for audience x: %v, want 401", err)
	}
}

// TestBoundTokenLifecycle checks a pod-bound token: who it authenticates
// (kubectl auth whoami), that authorization still refuses it, and that it
// dies with its pod.
func TestBoundTokenLifecycle(t *testing.T) {
	s := testutil.StartServer(t)
	ctx := context.Background()
	sa := waitForDefaultServiceAccount(ctx, t, s)
	kubectl := testutil.Kubectl(t, "1.33")
	pod, err := s.Client.CoreV1().Pods("default").Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p1"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.RunKubectl(t, kubectl, "", "create", "token", "default", "--bound-object-kind", "Pod", "--bound-object-name", "p1")
	if err != nil {
		t.Fatalf("kubectl create token --bound-object-kind Pod: %v\n%s", err, out)
	}
	token := strings.TrimSpace(out)
	_, claims := jwtParts(t, token)
	if got := mustJSON(t, claims["kubernetes.io"].(map[string]any)["pod"]); got != mustJSON(t, map[string]string{"name": "p1", "uid": string(pod.UID)}) {
		t.Errorf("pod claim %s", got)
	}

	out, err = kubectlWithToken(t, s, kubectl, token, "auth", "whoami", "-o", "yaml")
	if err != nil {
		t.Fatalf("kubectl auth whoami --token: %v\n%s", err, out)
	}
	var review authenticationv1.SelfSubjectReview
	if err := yaml.Unmarshal([]byte(out), &review); err != nil {
		t.Fatalf("whoami output: %v\n%s", err, out)
	}
	info := review.Status.UserInfo
	if info.Username != "system:serviceaccount:default:default" || info.UID != string(sa.UID) ||
		!slices.Equal(info.Groups, []string{"system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"}) {
		t.Errorf("whoami user %+v", info)
	}
	if got := info.Extra["authentication.kubernetes.io/pod-name"]; len(got) != 1 || got[0] != "p1" {
		t.Errorf("whoami extra %v, want the pod name", info.Extra)
	}
	if got := info.Extra["authentication.kubernetes.io/credential-id"]; len(got) != 1 || got[0] != "JTI="+claims["jti"].(string) {
		t.Errorf("whoami credential id %v, want JTI=%v", got, claims["jti"])
	}
	// Authenticated, not authorized: RBAC is not served yet.
	if _, err := tokenClient(t, s, token).CoreV1().Pods("default").List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("list pods as the service account: %v, want 403", err)
	}

	zero := int64(0)
	if err := s.Client.CoreV1().Pods("default").Delete(ctx, "p1", metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	client := tokenClient(t, s, token)
	err = wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := client.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
		return apierrors.IsUnauthorized(err), nil
	})
	if err != nil {
		t.Fatalf("token of a deleted pod still authenticates: %v", err)
	}
	if out, err := kubectlWithToken(t, s, kubectl, token, "auth", "whoami"); err == nil || !strings.Contains(out, "Unauthorized") {
		t.Errorf("kubectl auth whoami with the dead token: %v\n%s", err, out)
	}
}

// TestTokenRequestErrors checks the answers kube-apiserver gives to bad
// TokenRequests, and the expiry extension of kubelet-style pod tokens.
func TestTokenRequestErrors(t *testing.T) {
	s := testutil.StartServer(t)
	ctx := context.Background()
	waitForDefaultServiceAccount(ctx, t, s)
	if _, err := s.Client.CoreV1().ServiceAccounts("default").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "other"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod, err := s.Client.CoreV1().Pods("default").Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p1"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	seconds := func(n int64) *int64 { return &n }
	podRef := func(uid types.UID) *authenticationv1.BoundObjectReference {
		return &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: "p1", UID: uid}
	}
	tests := []struct {
		name  string
		sa    string
		spec  authenticationv1.TokenRequestSpec
		check func(error) bool
		msg   string
	}{
		{name: "too short", sa: "default", spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: seconds(599)},
			check: apierrors.IsInvalid, msg: "may not specify a duration less than 10 minutes"},
		{name: "too long", sa: "default", spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: seconds(1<<32 + 1)},
			check: apierrors.IsInvalid, msg: "larger than 2^32 seconds"},
		{name: "no such service account", sa: "nope", check: apierrors.IsNotFound, msg: `serviceaccounts "nope" not found`},
		{name: "no such pod", sa: "default", spec: authenticationv1.TokenRequestSpec{BoundObjectRef: &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: "nope"}},
			check: apierrors.IsNotFound, msg: `pods "nope" not found`},
		{name: "pod of another service account", sa: "other", spec: authenticationv1.TokenRequestSpec{BoundObjectRef: podRef("")},
			check: apierrors.IsBadRequest, msg: "different serviceaccount name"},
		{name: "pod UID mismatch", sa: "default", spec: authenticationv1.TokenRequestSpec{BoundObjectRef: &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: "p1", UID: "123"}},
			check: apierrors.IsConflict, msg: "does not match the UID in record"},
		{name: "unsupported kind", sa: "default", spec: authenticationv1.TokenRequestSpec{BoundObjectRef: &authenticationv1.BoundObjectReference{Kind: "ConfigMap", APIVersion: "v1", Name: "kube-root-ca.crt"}},
			check: apierrors.IsBadRequest, msg: "cannot bind token to object of type /v1, Kind=ConfigMap"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Client.CoreV1().ServiceAccounts("default").CreateToken(ctx, tt.sa, &authenticationv1.TokenRequest{Spec: tt.spec}, metav1.CreateOptions{})
			if !tt.check(err) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %v, want one containing %q", err, tt.msg)
			}
		})
	}

	// The kubelet's request for a kube-api-access volume: extended.
	before := time.Now().Truncate(time.Second)
	tr, err := s.Client.CoreV1().ServiceAccounts("default").CreateToken(ctx, "default", &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: seconds(3607), BoundObjectRef: podRef(pod.UID)},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Name != "default" || tr.Namespace != "default" || !slices.Equal(tr.Spec.Audiences, []string{"https://kubernetes.default.svc.cluster.local"}) {
		t.Errorf("answer %+v", tr)
	}
	if d := tr.Status.ExpirationTimestamp.Sub(before); d < 3607*time.Second || d > 3607*time.Second+time.Minute {
		t.Errorf("expirationTimestamp %v is not an hour and 7 s after %v", tr.Status.ExpirationTimestamp, before)
	}
	_, claims := jwtParts(t, tr.Status.Token)
	private := claims["kubernetes.io"].(map[string]any)
	if exp, iat := claims["exp"].(float64), claims["iat"].(float64); exp-iat != 365*24*3600 || private["warnafter"].(float64) != iat+3607 {
		t.Errorf("claims %v: want exp extended to a year and warnafter at the requested expiry", claims)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestTokenReview checks TokenReview as delegated authenticators use it:
// service-account tokens for the API server's audience or the requested
// ones, the join token, and refusals reported in status.error.
func TestTokenReview(t *testing.T) {
	s := testutil.StartServer(t)
	ctx := context.Background()
	waitForDefaultServiceAccount(ctx, t, s)
	token := func(audiences ...string) string {
		t.Helper()
		tr, err := s.Client.CoreV1().ServiceAccounts("default").CreateToken(ctx, "default",
			&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{Audiences: audiences}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return tr.Status.Token
	}
	review := func(token string, audiences ...string) authenticationv1.TokenReviewStatus {
		t.Helper()
		got, err := s.Client.AuthenticationV1().TokenReviews().Create(ctx, &authenticationv1.TokenReview{
			Spec: authenticationv1.TokenReviewSpec{Token: token, Audiences: audiences}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return got.Status
	}
	apiAudience := "https://kubernetes.default.svc.cluster.local"
	saGroups := []string{"system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"}

	st := review(token())
	if !st.Authenticated || st.User.Username != "system:serviceaccount:default:default" || st.User.UID == "" ||
		!slices.Equal(st.User.Groups, saGroups) || !slices.Equal(st.Audiences, []string{apiAudience}) || st.Error != "" {
		t.Errorf("API token: %+v", st)
	}
	vault := token("vault")
	if st := review(vault, "vault", "other"); !st.Authenticated || !slices.Equal(st.Audiences, []string{"vault"}) {
		t.Errorf("vault token for vault and other: %+v", st)
	}
	if st := review(vault); st.Authenticated || !strings.Contains(st.Error, "audiences") {
		t.Errorf("vault token for the API server: %+v, want refused for its audiences", st)
	}
	if st := review("not-a-token"); st.Authenticated || st.Error != "invalid bearer token" {
		t.Errorf("garbage: %+v", st)
	}
	joinToken, err := os.ReadFile(filepath.Join(s.DataDir, "server", "token"))
	if err != nil {
		t.Fatal(err)
	}
	if st := review(strings.TrimSpace(string(joinToken))); !st.Authenticated || !slices.Contains(st.User.Groups, "system:nodes") {
		t.Errorf("join token: %+v", st)
	}
	_, err = s.Client.AuthenticationV1().TokenReviews().Create(ctx, &authenticationv1.TokenReview{}, metav1.CreateOptions{})
	if !apierrors.IsBadRequest(err) {
		t.Errorf("empty token: err %v, want 400", err)
	}
	// Reviewing tokens is not for every user.
	_, err = tokenClient(t, s, token()).AuthenticationV1().TokenReviews().Create(ctx,
		&authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: "x"}}, metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("review by a service account: err %v, want 403", err)
	}
}
