package kubeconfig

import (
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tugcluster/tug/internal/pki"
)

// TestAdminKubeconfigOverTLS checks the PKI and the kubeconfig together: a
// server set up as tug's API server is (serving certificate, client
// certificates required and verified by the cluster CA) accepts exactly the
// clients whose kubeconfig carries a certificate of that CA.
func TestAdminKubeconfigOverTLS(t *testing.T) {
	bundle, err := pki.Ensure(pki.Options{Dir: filepath.Join(t.TempDir(), "server", "tls")})
	if err != nil {
		t.Fatalf("pki.Ensure: %v", err)
	}
	other, err := pki.Ensure(pki.Options{Dir: filepath.Join(t.TempDir(), "other", "tls")})
	if err != nil {
		t.Fatalf("pki.Ensure for another cluster: %v", err)
	}

	var mu sync.Mutex
	type peer struct {
		cn   string
		orgs []string
	}
	var seen []peer
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := r.TLS.PeerCertificates[0]
		mu.Lock()
		seen = append(seen, peer{cn: c.Subject.CommonName, orgs: c.Subject.Organization})
		mu.Unlock()
		_, _ = fmt.Fprint(w, `{"gitVersion":"v1.37.2"}`)
	}))
	srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{bundle.ServingCert},
		ClientCAs:    bundle.CAPool(),
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
	}
	// Rejected handshakes are the point of some cases, not news.
	srv.Config.ErrorLog = slog.NewLogLogger(slog.DiscardHandler, slog.LevelError)
	srv.StartTLS()
	t.Cleanup(srv.Close)

	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	portNum, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	server := ServerURL("127.0.0.1", portNum)

	nodeKey, nodeKeyPEM := newClientKey(t)
	nodeCertPEM, err := bundle.SignClientCert("system:node:n1", []string{"system:nodes"}, nodeKey.Public(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		caPEM    []byte
		certPEM  []byte
		keyPEM   []byte
		wantCN   string
		wantOrgs []string
		wantErr  string // part of the client's error; empty: success
	}{
		{name: "admin", caPEM: bundle.CAPEM, certPEM: bundle.AdminCertPEM, keyPEM: bundle.AdminKeyPEM,
			wantCN: "system:admin", wantOrgs: []string{"system:masters"}},
		{name: "certificate from SignClientCert", caPEM: bundle.CAPEM, certPEM: nodeCertPEM, keyPEM: nodeKeyPEM,
			wantCN: "system:node:n1", wantOrgs: []string{"system:nodes"}},
		{name: "client certificate of another CA", caPEM: bundle.CAPEM, certPEM: other.AdminCertPEM, keyPEM: other.AdminKeyPEM,
			wantErr: "tls: unknown certificate authority"},
		{name: "no client certificate", caPEM: bundle.CAPEM, wantErr: "tls: certificate required"},
		{name: "server of another CA", caPEM: other.CAPEM, certPEM: bundle.AdminCertPEM, keyPEM: bundle.AdminKeyPEM,
			wantErr: "x509: certificate signed by unknown authority"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			seen = nil
			mu.Unlock()

			path := filepath.Join(t.TempDir(), "kubeconfig.yaml")
			if err := Write(path, Admin(server, tt.caPEM, tt.certPEM, tt.keyPEM)); err != nil {
				t.Fatal(err)
			}
			restCfg, err := clientcmd.BuildConfigFromFlags("", path)
			if err != nil {
				t.Fatalf("BuildConfigFromFlags: %v", err)
			}
			if restCfg.Host != server {
				t.Errorf("Host = %q, want %q", restCfg.Host, server)
			}
			restCfg.Timeout = 10 * time.Second
			client, err := rest.HTTPClientFor(restCfg)
			if err != nil {
				t.Fatalf("HTTPClientFor: %v", err)
			}
			defer client.CloseIdleConnections()

			resp, err := client.Get(restCfg.Host + "/version")
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			}
			mu.Lock()
			got := slices.Clone(seen)
			mu.Unlock()
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("GET succeeded with status %s; server saw %v", resp.Status, got)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("GET error %q, want one containing %q", err, tt.wantErr)
				}
				if len(got) != 0 {
					t.Errorf("handler reached by %v", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("GET: %v", err)
			}
			if resp.StatusCode != http.StatusOK {
				t.Errorf("status %s", resp.Status)
			}
			if len(got) != 1 || got[0].cn != tt.wantCN || !slices.Equal(got[0].orgs, tt.wantOrgs) {
				t.Errorf("server saw peers %+v, want one with CN %q O %q", got, tt.wantCN, tt.wantOrgs)
			}
		})
	}
}
