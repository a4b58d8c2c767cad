package join

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tugcluster/tug/internal/pki"
)

const testToken = "tug-0123456789abcdef0123456789abcdef"

// joinServer serves the CA and node certificates as tug server does, with
// a real cluster PKI; replacing bundle is a reinstalled server.
type joinServer struct {
	URL    string
	bundle atomic.Pointer[pki.Bundle]
}

func newBundle(t *testing.T) *pki.Bundle {
	t.Helper()
	b, err := pki.Ensure(pki.Options{Dir: filepath.Join(t.TempDir(), "tls")})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func startJoinServer(t *testing.T) *joinServer {
	t.Helper()
	s := &joinServer{}
	s.bundle.Store(newBundle(t))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.URL = "https://" + l.Addr().String()
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case CAPath:
				Handler(testToken, s.bundle.Load().CAPEM).ServeHTTP(w, r)
			case NodeCertsPath:
				NodeCertsHandler(testToken, s.bundle.Load()).ServeHTTP(w, r)
			default:
				http.NotFound(w, r)
			}
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	tlsListener := tls.NewListener(l, &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &s.bundle.Load().ServingCert, nil },
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(tlsListener)
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
	return s
}

func readDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	for _, name := range []string{CAFile, ClientCertFile, ClientKeyFile, ServingCertFile, ServingKeyFile} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = string(data)
	}
	return files
}

func parseCertFile(t *testing.T, dir, name string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestNodeCredentials(t *testing.T) {
	ctx := context.Background()
	s := startJoinServer(t)
	dir := filepath.Join(t.TempDir(), "agent", "tls")
	ips := []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.1.2.3")}

	creds, err := NodeCredentials(ctx, s.URL, testToken, dir, "node-1", ips, []string{"node-1"})
	if err != nil {
		t.Fatalf("first NodeCredentials: %v", err)
	}
	for name, mode := range map[string]os.FileMode{CAFile: 0o644, ClientCertFile: 0o644, ClientKeyFile: 0o600, ServingCertFile: 0o644, ServingKeyFile: 0o600, ".": 0o700} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, %v; want %v", name, fi.Mode().Perm(), err, mode)
		}
	}
	client := parseCertFile(t, dir, ClientCertFile)
	if client.Subject.CommonName != "system:node:node-1" || !slices.Equal(client.Subject.Organization, []string{"system:nodes"}) {
		t.Errorf("client certificate subject %v", client.Subject)
	}
	if _, err := client.Verify(x509.VerifyOptions{Roots: creds.CAPool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("client certificate does not verify: %v", err)
	}
	if got := client.NotAfter.Sub(client.NotBefore); got < NodeCertLifetime || got > NodeCertLifetime+time.Hour {
		t.Errorf("client certificate lifetime %v", got)
	}
	serving := creds.ServingCert.Leaf
	for _, host := range []string{"127.0.0.1", "10.1.2.3", "node-1"} {
		if _, err := serving.Verify(x509.VerifyOptions{DNSName: host, Roots: creds.CAPool}); err != nil {
			t.Errorf("serving certificate for %s: %v", host, err)
		}
	}
	if !bytes.Equal(creds.CAPEM, s.bundle.Load().CAPEM) || creds.Config.Host != s.URL || creds.Config.BearerToken != "" ||
		creds.Config.CertFile != filepath.Join(dir, ClientCertFile) || creds.Config.KeyFile != filepath.Join(dir, ClientKeyFile) {
		t.Errorf("credentials %+v", creds.Config)
	}
	first := readDir(t, dir)

	// A later start reuses everything.
	if _, err := NodeCredentials(ctx, s.URL, testToken, dir, "node-1", ips, []string{"node-1"}); err != nil {
		t.Fatal(err)
	}
	if got := readDir(t, dir); !mapsEqual(got, first) {
		t.Error("a second start replaced good credentials")
	}

	// A new address renews the serving certificate only.
	if _, err := NodeCredentials(ctx, s.URL, testToken, dir, "node-1", append(ips, net.ParseIP("fd00::7")), []string{"node-1"}); err != nil {
		t.Fatal(err)
	}
	got := readDir(t, dir)
	if got[ClientKeyFile] != first[ClientKeyFile] || got[ClientCertFile] != first[ClientCertFile] {
		t.Error("a new serving address replaced the client certificate")
	}
	if got[ServingKeyFile] == first[ServingKeyFile] || !slices.ContainsFunc(parseCertFile(t, dir, ServingCertFile).IPAddresses, net.ParseIP("fd00::7").Equal) {
		t.Error("the serving certificate was not renewed for the new address")
	}

	// A client certificate expiring within RenewBefore is renewed.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	soon, err := s.bundle.Load().SignClientCert("system:node:node-1", []string{"system:nodes"}, key.Public(), 10*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	writeKeyPair(t, dir, ClientCertFile, ClientKeyFile, soon, key)
	if _, err := NodeCredentials(ctx, s.URL, testToken, dir, "node-1", ips, nil); err != nil {
		t.Fatal(err)
	}
	if c := parseCertFile(t, dir, ClientCertFile); time.Until(c.NotAfter) < RenewBefore {
		t.Errorf("expiring client certificate kept: expires %v", c.NotAfter)
	}

	// Another node name gets another identity.
	if _, err := NodeCredentials(ctx, s.URL, testToken, dir, "node-2", ips, nil); err != nil {
		t.Fatal(err)
	}
	if cn := parseCertFile(t, dir, ClientCertFile).Subject.CommonName; cn != "system:node:node-2" {
		t.Errorf("client certificate CN %q after a rename, want system:node:node-2", cn)
	}

	// The server unreachable: stored credentials still serve.
	before := readDir(t, dir)
	unreachable := "https://" + listenAndClose(t)
	creds, err = NodeCredentials(ctx, unreachable, testToken, dir, "node-2", ips, nil)
	if err != nil || creds.Config.Host != unreachable || !mapsEqual(readDir(t, dir), before) {
		t.Errorf("with the server down: %v, %+v", err, creds)
	}
	// ... but not if they are not good for what is asked.
	if _, err := NodeCredentials(ctx, unreachable, testToken, dir, "node-3", ips, nil); err == nil {
		t.Error("with the server down, credentials of another node were returned")
	}

	// A reinstalled server with a new CA: everything is replaced.
	s.bundle.Store(newBundle(t))
	creds, err = NodeCredentials(ctx, s.URL, testToken, dir, "node-2", ips, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(creds.CAPEM, s.bundle.Load().CAPEM) || parseCertFile(t, dir, ClientCertFile).CheckSignatureFrom(s.bundle.Load().CA) != nil ||
		creds.ServingCert.Leaf.CheckSignatureFrom(s.bundle.Load().CA) != nil {
		t.Error("credentials not renewed for the new CA")
	}

	if _, err := NodeCredentials(ctx, s.URL, testToken, filepath.Join(t.TempDir(), "tls"), "node-1", nil, nil); err == nil {
		t.Error("NodeCredentials without any serving address succeeded")
	}

	// A wrong token gets nothing.
	if _, err := NodeCredentials(ctx, s.URL, testToken+"x", filepath.Join(t.TempDir(), "tls"), "node-1", ips, nil); err == nil ||
		!strings.Contains(err.Error(), "does not know this join token") {
		t.Errorf("NodeCredentials with a wrong token: %v, want a CA signature failure", err)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// listenAndClose returns a loopback address nothing listens on.
func listenAndClose(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

func writeKeyPair(t *testing.T, dir, certFile, keyFile string, certPEM []byte, key crypto.Signer) {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, keyFile), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, certFile), certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
}

func csrPEM(t *testing.T, tmpl *x509.CertificateRequest) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

func TestNodeCertsHandlerRefuses(t *testing.T) {
	h := NodeCertsHandler(testToken, newBundle(t))
	good := csrPEM(t, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "x"}, DNSNames: []string{"n1"}})
	// A CSR whose signature does not verify: one byte of the signed
	// part changed.
	block, _ := pem.Decode([]byte(good))
	bad := slices.Clone(block.Bytes)
	bad[len(bad)/3] ^= 0x01
	tampered := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: bad}))
	u, _ := url.Parse("spiffe://cluster/node")

	tests := []struct {
		name   string
		method string
		token  string
		body   any
		want   int
		errSub string
	}{
		{name: "good", token: testToken, body: nodeCertsRequest{NodeName: "n1", ClientCSR: good, ServingCSR: good}, want: 200},
		{name: "client only", token: testToken, body: nodeCertsRequest{NodeName: "n1", ClientCSR: good}, want: 200},
		{name: "GET", method: http.MethodGet, token: testToken, want: 405},
		{name: "no token", body: nodeCertsRequest{NodeName: "n1", ClientCSR: good}, want: 401},
		{name: "wrong token", token: testToken + "x", body: nodeCertsRequest{NodeName: "n1", ClientCSR: good}, want: 401},
		{name: "bad node name", token: testToken, body: nodeCertsRequest{NodeName: "Node_1", ClientCSR: good}, want: 400, errSub: "node name"},
		{name: "empty node name", token: testToken, body: nodeCertsRequest{ClientCSR: good}, want: 400, errSub: "node name"},
		{name: "no CSR", token: testToken, body: nodeCertsRequest{NodeName: "n1"}, want: 400, errSub: "no certificate requests"},
		{name: "not JSON", token: testToken, body: "{", want: 400, errSub: "decode"},
		{name: "unknown field", token: testToken, body: map[string]string{"nodeName": "n1", "csr": good}, want: 400, errSub: "unknown field"},
		{name: "not PEM", token: testToken, body: nodeCertsRequest{NodeName: "n1", ClientCSR: "hello"}, want: 400, errSub: "not a PEM"},
		{name: "bad signature", token: testToken, body: nodeCertsRequest{NodeName: "n1", ClientCSR: tampered}, want: 400, errSub: "clientCSR"},
		{name: "bad serving signature", token: testToken, body: nodeCertsRequest{NodeName: "n1", ServingCSR: tampered}, want: 400, errSub: "servingCSR"},
		{name: "URI SAN", token: testToken, body: nodeCertsRequest{NodeName: "n1", ServingCSR: csrPEM(t, &x509.CertificateRequest{DNSNames: []string{"n1"}, URIs: []*url.URL{u}})}, want: 400, errSub: "only IP addresses and DNS names"},
		{name: "email SAN", token: testToken, body: nodeCertsRequest{NodeName: "n1", ServingCSR: csrPEM(t, &x509.CertificateRequest{EmailAddresses: []string{"a@b.c"}})}, want: 400, errSub: "only IP addresses"},
		{name: "wildcard SAN", token: testToken, body: nodeCertsRequest{NodeName: "n1", ServingCSR: csrPEM(t, &x509.CertificateRequest{DNSNames: []string{"*.example.com"}})}, want: 400, errSub: "DNS name"},
		{name: "unspecified IP", token: testToken, body: nodeCertsRequest{NodeName: "n1", ServingCSR: csrPEM(t, &x509.CertificateRequest{IPAddresses: []net.IP{net.IPv4zero}})}, want: 400, errSub: "IP address"},
		{name: "no SANs", token: testToken, body: nodeCertsRequest{NodeName: "n1", ServingCSR: csrPEM(t, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "n1"}})}, want: 400, errSub: "no IP addresses"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body []byte
			switch b := tt.body.(type) {
			case nil:
			case string:
				body = []byte(b)
			default:
				var err error
				if body, err = json.Marshal(b); err != nil {
					t.Fatal(err)
				}
			}
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			req := httptest.NewRequest(method, NodeCertsPath, bytes.NewReader(body))
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.want || !strings.Contains(rec.Body.String(), tt.errSub) {
				t.Fatalf("code %d body %q, want %d containing %q", rec.Code, rec.Body.String(), tt.want, tt.errSub)
			}
			if tt.want != 200 {
				return
			}
			var resp nodeCertsResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
				t.Fatal(err)
			}
			if (resp.ClientCert != "") != (tt.body.(nodeCertsRequest).ClientCSR != "") || (resp.ServingCert != "") != (tt.body.(nodeCertsRequest).ServingCSR != "") {
				t.Errorf("answer %+v does not match the CSRs sent", resp)
			}
		})
	}
}
