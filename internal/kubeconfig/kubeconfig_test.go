package kubeconfig

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestServerURL(t *testing.T) {
	tests := []struct {
		bind string
		port int
		want string
	}{
		{bind: "", port: 6443, want: "https://127.0.0.1:6443"},
		{bind: "0.0.0.0", port: 6443, want: "https://127.0.0.1:6443"},
		{bind: "::", port: 6443, want: "https://127.0.0.1:6443"},
		{bind: "127.0.0.1", port: 6443, want: "https://127.0.0.1:6443"},
		{bind: "127.0.0.1", port: 40123, want: "https://127.0.0.1:40123"},
		{bind: "::1", port: 6443, want: "https://[::1]:6443"},
		{bind: "192.168.1.5", port: 6443, want: "https://192.168.1.5:6443"},
		{bind: "tug.example.com", port: 443, want: "https://tug.example.com:443"},
	}
	for _, tt := range tests {
		t.Run(tt.want+" for "+tt.bind, func(t *testing.T) {
			if got := ServerURL(tt.bind, tt.port); got != tt.want {
				t.Errorf("ServerURL(%q, %d) = %q, want %q", tt.bind, tt.port, got, tt.want)
			}
		})
	}
}

// TestAdminGolden pins the bytes kubectl reads: names, current context and
// where each PEM goes.
func TestAdminGolden(t *testing.T) {
	cfg := Admin("https://127.0.0.1:6443", []byte("ca pem"), []byte("cert pem"), []byte("key pem"))
	got, err := clientcmd.Write(*cfg)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "admin.yaml")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("admin kubeconfig (-want +got):\n%s", diff)
	}
	if err := clientcmd.Validate(*cfg); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestWriteLoad(t *testing.T) {
	cfg := Admin("https://127.0.0.1:6443", []byte("ca"), []byte("cert"), []byte("key"))
	tests := []struct {
		name     string
		existing []byte // file content before Write; nil: no file
		subdir   string // path below the temporary directory
	}{
		{name: "new file", subdir: "kubeconfig.yaml"},
		{name: "new directory", subdir: "data/dir/kubeconfig.yaml"},
		{name: "replaces a world-readable file", existing: []byte("old: content\n"), subdir: "kubeconfig.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tt.subdir)
			if tt.existing != nil {
				if err := os.WriteFile(path, tt.existing, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := Write(path, cfg); err != nil {
				t.Fatalf("Write: %v", err)
			}
			info, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if info.Mode().Perm() != 0o600 {
				t.Errorf("mode %v, want 0600", info.Mode().Perm())
			}
			got, err := Load(path)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if diff := cmp.Diff(summary(cfg), summary(got)); diff != "" {
				t.Errorf("loaded kubeconfig (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("clusters: [unterminated"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "missing.yaml"), bad} {
		if _, err := Load(path); err == nil {
			t.Errorf("Load(%s) succeeded", path)
		}
	}
}

// summary is the part of a kubeconfig a client acts on.
func summary(cfg *clientcmdapi.Config) map[string]string {
	out := map[string]string{"current-context": cfg.CurrentContext}
	for name, c := range cfg.Clusters {
		out["cluster "+name] = c.Server + " ca=" + string(c.CertificateAuthorityData)
	}
	for name, u := range cfg.AuthInfos {
		out["user "+name] = string(u.ClientCertificateData) + " " + string(u.ClientKeyData)
	}
	for name, c := range cfg.Contexts {
		out["context "+name] = c.Cluster + "/" + c.AuthInfo
	}
	return out
}

// newClientKey returns a fresh ECDSA key and its PKCS #8 PEM.
func newClientKey(t *testing.T) (*ecdsa.PrivateKey, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}
