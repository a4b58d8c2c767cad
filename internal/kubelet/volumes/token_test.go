package volumes_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/tugcluster/tug/internal/kubelet/volumes"
	"github.com/tugcluster/tug/internal/testutil"
)

// countingTransport counts TokenRequests on their way to the real server.
type countingTransport struct {
	next   http.RoundTripper
	tokens atomic.Int32
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/token") {
		c.tokens.Add(1)
	}
	return c.next.RoundTrip(r)
}

// claims decodes a JWT's payload (the token is the server's, checked by
// it; the test only reads what it was bound to).
func claims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token is not a JWT: %q", token)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestServiceAccountTokens(t *testing.T) {
	srv := testutil.StartServer(t)
	ctx := volumes.TestContext(t)
	counter := &countingTransport{}
	cfg := rest.CopyConfig(srv.Config)
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		counter.next = rt
		return counter
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const ns = "tokens"
	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "runner"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod, err := client.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.PodSpec{
			ServiceAccountName:           "runner",
			AutomountServiceAccountToken: ptrTo(false),
			Containers:                   []corev1.Container{{Name: "app", Image: "busybox"}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The root CA publisher fills every namespace; the volume must carry
	// what it published.
	var rootCA *corev1.ConfigMap
	err = wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		rootCA, err = client.CoreV1().ConfigMaps(ns).Get(ctx, "kube-root-ca.crt", metav1.GetOptions{})
		return err == nil, nil
	})
	if err != nil {
		t.Fatalf("kube-root-ca.crt not published: %v", err)
	}

	clk := clocktesting.NewFakeClock(time.Now())
	m := volumes.New(volumes.Options{RootDir: filepath.Join(t.TempDir(), "pods"), Client: client, CAPEM: []byte("fallback CA"), Clock: clk})
	pod.Spec.Volumes = []corev1.Volume{kubeAPIAccess(), {Name: "aud", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{
			Audience: "vault", ExpirationSeconds: ptrTo(int64(48 * 3600)), Path: "vault/token",
		}}},
	}}}}
	volumes.TearDownAtEnd(t, m, pod.UID)
	paths, err := m.SetUp(ctx, pod)
	if err != nil {
		t.Fatal(err)
	}
	dir := paths["kube-api-access-x7k2p"]
	token := readFile(t, filepath.Join(dir, "token"))
	c := claims(t, token)
	k8s, _ := c["kubernetes.io"].(map[string]any)
	podClaim, _ := k8s["pod"].(map[string]any)
	saClaim, _ := k8s["serviceaccount"].(map[string]any)
	if k8s["namespace"] != ns || podClaim["name"] != "web" || podClaim["uid"] != string(pod.UID) || saClaim["name"] != "runner" {
		t.Errorf("token claims = %v, want bound to pod tokens/web as runner", c)
	}
	if got := readFile(t, filepath.Join(dir, "ca.crt")); got != rootCA.Data["ca.crt"] || got == "" {
		t.Errorf("ca.crt = %q, want the published root CA", got)
	}
	if got := readFile(t, filepath.Join(dir, "namespace")); got != ns {
		t.Errorf("namespace = %q, want %q", got, ns)
	}
	for _, f := range []string{"token", "ca.crt", "namespace"} {
		if got := perm(t, filepath.Join(dir, f)); got != 0o644 {
			t.Errorf("mode of %s = %v, want 0644", f, got)
		}
	}
	vault := claims(t, readFile(t, filepath.Join(paths["aud"], "vault/token")))
	if aud, _ := vault["aud"].([]any); len(aud) != 1 || aud[0] != "vault" {
		t.Errorf("audience = %v, want [vault]", vault["aud"])
	}
	if n := counter.tokens.Load(); n != 2 {
		t.Fatalf("%d token requests, want 2", n)
	}

	// Fresh tokens are reused; at 80% of the lifetime (3607s) the
	// kube-api-access token is replaced, the 48h one only after 24h.
	setUp := func() {
		t.Helper()
		if _, err := m.SetUp(ctx, pod); err != nil {
			t.Fatal(err)
		}
	}
	setUp()
	clk.Step(2880 * time.Second)
	setUp()
	if n := counter.tokens.Load(); n != 2 {
		t.Fatalf("%d token requests before 80%% of the lifetime, want 2", n)
	}
	clk.Step(10 * time.Second)
	setUp()
	if n := counter.tokens.Load(); n != 3 {
		t.Fatalf("%d token requests after 80%% of the lifetime, want 3", n)
	}
	clk.Step(24*time.Hour - 2890*time.Second - time.Second)
	setUp()
	if n := counter.tokens.Load(); n != 4 {
		t.Fatalf("%d token requests just before 24h, want 4 (only kube-api-access again)", n)
	}
	clk.Step(2 * time.Second)
	setUp()
	if n := counter.tokens.Load(); n != 5 {
		t.Fatalf("%d token requests after 24h, want 5 (the 48h token too)", n)
	}

	// Owner and mode with a pod-wide user and fsGroup: the same pod seen
	// by a second Manager (the token stays bound to the real pod).
	user, group := int64(1000), int64(2000)
	m2 := volumes.New(volumes.Options{RootDir: filepath.Join(t.TempDir(), "pods"), Client: client, Clock: clk})
	pod2 := pod.DeepCopy()
	pod2.Spec.Volumes = pod2.Spec.Volumes[:1]
	pod2.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsUser: &user, FSGroup: &group}
	volumes.TearDownAtEnd(t, m2, pod2.UID)
	paths, err = m2.SetUp(ctx, pod2)
	if err != nil {
		t.Fatal(err)
	}
	for f, want := range map[string]os.FileMode{"token": 0o640, "ca.crt": 0o644, "namespace": 0o644} {
		info, err := os.Stat(filepath.Join(paths["kube-api-access-x7k2p"], f))
		if err != nil {
			t.Fatal(err)
		}
		st := info.Sys().(*syscall.Stat_t)
		wantUID := uint32(0)
		if f == "token" {
			wantUID = 1000
		}
		if info.Mode().Perm() != want || st.Uid != wantUID || st.Gid != 2000 {
			t.Errorf("%s with runAsUser and fsGroup: mode %v owner %d:%d, want %v %d:2000", f, info.Mode().Perm(), st.Uid, st.Gid, want, wantUID)
		}
	}

	// TearDown forgets the pod's tokens.
	before := counter.tokens.Load()
	if err := m.TearDown(ctx, pod.UID); err != nil {
		t.Fatal(err)
	}
	setUp()
	if n := counter.tokens.Load(); n != before+2 {
		t.Errorf("%d token requests after TearDown and SetUp, want %d", n, before+2)
	}
}

// TestRootCAFallback: while kube-root-ca.crt is not published, the
// kube-api-access ca.crt comes from the node's copy of the cluster CA. A
// namespace that does not exist never gets it, which makes that state
// last for the test.
func TestRootCAFallback(t *testing.T) {
	srv := testutil.StartServer(t)
	ctx := volumes.TestContext(t)
	m := volumes.New(volumes.Options{RootDir: filepath.Join(t.TempDir(), "pods"), Client: srv.Client, CAPEM: []byte("node CA")})
	vol := kubeAPIAccess()
	vol.Projected.Sources = vol.Projected.Sources[1:] // no token: no service account in a missing namespace
	pod := volumes.PodWith("uid-ca", vol)
	pod.Namespace = "not-created"
	volumes.TearDownAtEnd(t, m, pod.UID)
	paths, err := m.SetUp(ctx, pod)
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(paths[vol.Name], "ca.crt")); got != "node CA" {
		t.Errorf("ca.crt = %q, want the node's CA", got)
	}
	other := volumes.PodWith("uid-other", corev1.Volume{Name: "c", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: "other"},
	}}})
	other.Namespace = "not-created"
	volumes.TearDownAtEnd(t, m, other.UID)
	if _, err := m.SetUp(ctx, other); err == nil {
		t.Error("another missing configmap was filled in")
	}
}
