package integration

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/join"
	"github.com/tugcluster/tug/internal/testutil"
)

func joinToken(t *testing.T, s *testutil.Server) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(s.DataDir, "server", "token"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

// TestNodeCredentials checks that an agent trades the join token for
// node certificates, and then registers its Node and Lease as
// system:node:<name> with them.
func TestNodeCredentials(t *testing.T) {
	s := testutil.StartServer(t)
	ctx := context.Background()
	token := joinToken(t, s)
	dir := filepath.Join(t.TempDir(), "agent", "tls")

	creds, err := join.NodeCredentials(ctx, s.URL, token, dir, "node-a", []net.IP{net.ParseIP("127.0.0.1")}, []string{"node-a"})
	if err != nil {
		t.Fatalf("NodeCredentials: %v", err)
	}
	if creds.Config.BearerToken != "" {
		t.Error("node credentials carry the join token")
	}
	client := kubernetes.NewForConfigOrDie(creds.Config)
	review, err := client.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if u := review.Status.UserInfo; u.Username != "system:node:node-a" || !slices.Equal(u.Groups, []string{"system:nodes", "system:authenticated"}) {
		t.Errorf("node user %+v, want system:node:node-a in system:nodes", u)
	}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-a"}}
	if _, err := client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create Node with the node certificate: %v", err)
	}
	if _, err := client.CoreV1().Nodes().Get(ctx, "node-a", metav1.GetOptions{}); err != nil {
		t.Fatalf("get Node: %v", err)
	}
	lease := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: "node-a", Namespace: corev1.NamespaceNodeLease},
		Spec:       coordinationv1.LeaseSpec{HolderIdentity: ptr.To("node-a"), LeaseDurationSeconds: ptr.To[int32](40)},
	}
	if _, err := client.CoordinationV1().Leases(corev1.NamespaceNodeLease).Create(ctx, lease, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create Lease: %v", err)
	}
	if got, err := client.CoordinationV1().Leases(corev1.NamespaceNodeLease).Get(ctx, "node-a", metav1.GetOptions{}); err != nil || *got.Spec.HolderIdentity != "node-a" {
		t.Fatalf("get Lease: %+v %v", got, err)
	}

	// The kubelet's serving certificate: the server's CA vouches for it
	// on the node's address, and the API server (admin certificate) can
	// reach a TLS server using it that requires cluster client
	// certificates.
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{creds.ServingCert}, ClientCAs: creds.CAPool,
		ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.TLS.PeerCertificates[0].Subject.CommonName)
	})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l)
	}()
	defer func() {
		_ = srv.Close()
		<-done
	}()
	admin, err := tls.X509KeyPair(s.Config.CertData, s.Config.KeyData)
	if err != nil {
		t.Fatal(err)
	}
	transport := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: creds.CAPool, Certificates: []tls.Certificate{admin}, MinVersion: tls.VersionTLS12}}
	defer transport.CloseIdleConnections()
	resp, err := (&http.Client{Transport: transport}).Get("https://" + l.Addr().String() + "/")
	if err != nil {
		t.Fatalf("reach the kubelet serving certificate as the API server: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if string(body) != "system:admin" {
		t.Errorf("kubelet-side peer %q, want system:admin", body)
	}
}

// TestNodeCertsRefused checks what the node certificate endpoint refuses:
// callers without the join token, and bad requests.
func TestNodeCertsRefused(t *testing.T) {
	s := testutil.StartServer(t)
	ctx := context.Background()
	token := joinToken(t, s)

	if _, err := join.NodeCredentials(ctx, s.URL, token+"x", t.TempDir(), "node-a", nil, []string{"node-a"}); err == nil {
		t.Error("NodeCredentials with a wrong join token succeeded")
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{DNSNames: []string{"node-a"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	csr := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.Config.CAData)
	admin, err := tls.X509KeyPair(s.Config.CertData, s.Config.KeyData)
	if err != nil {
		t.Fatal(err)
	}
	post := func(bearer string, certs []tls.Certificate, body any) (int, string) {
		t.Helper()
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+join.NodeCertsPath, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		transport := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: certs, MinVersion: tls.VersionTLS12}}
		defer transport.CloseIdleConnections()
		resp, err := (&http.Client{Transport: transport}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(out)
	}
	good := map[string]string{"nodeName": "node-a", "servingCSR": csr}
	tests := []struct {
		name   string
		bearer string
		certs  []tls.Certificate
		body   any
		want   int
		errSub string
	}{
		{name: "join token", bearer: token, body: good, want: http.StatusOK, errSub: "BEGIN CERTIFICATE"},
		{name: "wrong token", bearer: token + "x", body: good, want: http.StatusUnauthorized},
		{name: "no credentials", body: good, want: http.StatusUnauthorized},
		{name: "admin certificate, no join token", certs: []tls.Certificate{admin}, body: good, want: http.StatusUnauthorized, errSub: "join token"},
		{name: "bad node name", bearer: token, body: map[string]string{"nodeName": "Node_A", "servingCSR": csr}, want: http.StatusBadRequest, errSub: "node name"},
		{name: "not a CSR", bearer: token, body: map[string]string{"nodeName": "node-a", "clientCSR": "x"}, want: http.StatusBadRequest, errSub: "not a PEM certificate request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := post(tt.bearer, tt.certs, tt.body)
			if code != tt.want || !strings.Contains(body, tt.errSub) {
				t.Errorf("code %d body %q, want %d containing %q", code, body, tt.want, tt.errSub)
			}
		})
	}
}
