package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeHost is a machine called myhost with the given interface addresses,
// whose clock reads now.
func fakeHost(now time.Time, addrs ...string) host {
	return host{
		now:      func() time.Time { return now },
		hostname: func() (string, error) { return "MyHost", nil },
		interfaceAddrs: func() ([]net.Addr, error) {
			var out []net.Addr
			for _, a := range addrs {
				ip, ipNet, err := net.ParseCIDR(a)
				if err != nil {
					return nil, err
				}
				out = append(out, &net.IPNet{IP: ip, Mask: ipNet.Mask})
			}
			return out, nil
		},
	}
}

var hostAddrs = []string{"127.0.0.1/8", "::1/128", "192.168.1.5/24", "fe80::1/64", "2001:db8::5/64"}

var allFiles = []string{
	CAKeyFile, CACertFile,
	ServingKeyFile, ServingCertFile,
	AdminKeyFile, AdminCertFile,
	ServiceAccountKeyFile, ServiceAccountPublicKeyFile,
}

func TestEnsureFirstStart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "server", "tls")
	opts := Options{Dir: dir, ExtraSANs: []string{"tug.example.com", "192.0.2.10"}}
	b, err := ensure(opts, fakeHost(t0, hostAddrs...))
	if err != nil {
		t.Fatalf("ensure: %v", err)
	}
	if diff := cmp.Diff(allFiles, b.Written); diff != "" {
		t.Errorf("Written (-want +got):\n%s", diff)
	}

	assertMode(t, dir, 0o700|os.ModeDir)
	assertMode(t, filepath.Dir(dir), 0o700|os.ModeDir)
	for _, name := range allFiles {
		want := os.FileMode(0o644)
		if filepath.Ext(name) == ".key" {
			want = 0o600
		}
		assertMode(t, filepath.Join(dir, name), want)
	}
	for name, want := range map[string][]byte{CACertFile: b.CAPEM, AdminCertFile: b.AdminCertPEM, AdminKeyFile: b.AdminKeyPEM} {
		if got := readFile(t, dir, name); !bytes.Equal(got, want) {
			t.Errorf("%s differs from the bundle", name)
		}
	}

	// The CA.
	ca := b.CA
	if ca.Subject.CommonName != "tug-ca" || !ca.IsCA || !ca.BasicConstraintsValid {
		t.Errorf("CA subject %v, IsCA %v", ca.Subject, ca.IsCA)
	}
	assertP256(t, "CA", ca.PublicKey)
	assertLifetime(t, "CA", ca, 10*365*24*time.Hour)
	if !b.CAKey.Public().(*ecdsa.PublicKey).Equal(ca.PublicKey) {
		t.Error("CAKey does not match the CA certificate")
	}

	// The serving certificate.
	serving := b.ServingCert.Leaf
	assertP256(t, "serving", serving.PublicKey)
	assertLifetime(t, "serving", serving, 365*24*time.Hour)
	for _, name := range []string{
		"localhost", "myhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
		"kubernetes.default.svc.cluster.local", "tug.example.com",
		"127.0.0.1", "::1", "10.43.0.1", "192.168.1.5", "2001:db8::5", "192.0.2.10",
	} {
		if err := verify(b, serving, name, x509.ExtKeyUsageServerAuth); err != nil {
			t.Errorf("serving certificate for %q: %v", name, err)
		}
	}
	for _, name := range []string{"fe80::1", "example.org", "kubernetes.default.svc.other.local", "10.43.0.10"} {
		if err := verify(b, serving, name, x509.ExtKeyUsageServerAuth); err == nil {
			t.Errorf("serving certificate is valid for %q", name)
		}
	}
	if _, err := tls.X509KeyPair(readFile(t, dir, ServingCertFile), readFile(t, dir, ServingKeyFile)); err != nil {
		t.Errorf("serving files: %v", err)
	}

	// The admin client certificate.
	adminPair, err := tls.X509KeyPair(b.AdminCertPEM, b.AdminKeyPEM)
	if err != nil {
		t.Fatalf("admin key pair: %v", err)
	}
	admin := adminPair.Leaf
	if admin.Subject.CommonName != "system:admin" || !slices.Equal(admin.Subject.Organization, []string{"system:masters"}) {
		t.Errorf("admin subject %v", admin.Subject)
	}
	assertLifetime(t, "admin", admin, 365*24*time.Hour)
	if err := verify(b, admin, "", x509.ExtKeyUsageClientAuth); err != nil {
		t.Errorf("admin certificate: %v", err)
	}
	if err := verify(b, admin, "", x509.ExtKeyUsageServerAuth); err == nil {
		t.Error("admin certificate is valid for serving")
	}

	// The service-account key.
	saKey, ok := b.ServiceAccountKey.(*ecdsa.PrivateKey)
	if !ok || saKey.Curve != elliptic.P256() {
		t.Fatalf("service-account key is %T, want ECDSA P-256", b.ServiceAccountKey)
	}
	block, _ := pem.Decode(readFile(t, dir, ServiceAccountPublicKeyFile))
	if block == nil || block.Type != "PUBLIC KEY" {
		t.Fatalf("%s holds no PUBLIC KEY block", ServiceAccountPublicKeyFile)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !saKey.PublicKey.Equal(pub) {
		t.Errorf("%s does not match the service-account key", ServiceAccountPublicKeyFile)
	}
}

func TestEnsureRestart(t *testing.T) {
	baseOpts := func(dir string) Options {
		return Options{Dir: dir, ExtraSANs: []string{"tug.example.com"}}
	}
	servingPair := []string{ServingKeyFile, ServingCertFile}
	adminPair := []string{AdminKeyFile, AdminCertFile}
	tests := []struct {
		name   string
		later  time.Duration    // clock at the restart, after the first start
		addrs  []string         // host addresses at the restart; nil: unchanged
		opts   func(o *Options) // options at the restart
		mutate func(dir string) // what happened to the files in between
		want   []string         // files written at the restart
		sameCA bool             // whether the CA must be the first start's
	}{
		{name: "nothing changed", want: nil, sameCA: true},
		{name: "a month later", later: 30 * 24 * time.Hour, sameCA: true},
		{name: "31 days before expiry", later: 334 * 24 * time.Hour, sameCA: true},
		{name: "29 days before expiry", later: 336 * 24 * time.Hour, want: slices.Concat(servingPair, adminPair), sameCA: true},
		{name: "expired", later: 400 * 24 * time.Hour, want: slices.Concat(servingPair, adminPair), sameCA: true},
		{name: "clock went back", later: -time.Hour, want: slices.Concat(servingPair, adminPair), sameCA: true},
		{name: "new extra SAN", opts: func(o *Options) { o.ExtraSANs = append(o.ExtraSANs, "lb.example.com") },
			want: servingPair, sameCA: true},
		{name: "extra SAN dropped", opts: func(o *Options) { o.ExtraSANs = nil }, sameCA: true},
		{name: "extra SAN in other case", opts: func(o *Options) { o.ExtraSANs = []string{"TUG.example.com"} }, sameCA: true},
		{name: "new cluster domain", opts: func(o *Options) { o.ClusterDomain = "corp.example" }, want: servingPair, sameCA: true},
		{name: "new service IP", opts: func(o *Options) { o.ServiceIP = net.ParseIP("10.96.0.1") }, want: servingPair, sameCA: true},
		{name: "new host address", addrs: append(slices.Clone(hostAddrs), "10.0.0.7/8"), want: servingPair, sameCA: true},
		{name: "host address gone", addrs: []string{"127.0.0.1/8"}, sameCA: true},
		{name: "new link-local address", addrs: append(slices.Clone(hostAddrs), "fe80::abcd/64", "169.254.3.4/16"), sameCA: true},
		{name: "serving certificate deleted", mutate: remove(ServingCertFile), want: servingPair, sameCA: true},
		{name: "serving key deleted", mutate: remove(ServingKeyFile), want: servingPair, sameCA: true},
		{name: "serving key corrupt", mutate: overwrite(ServingKeyFile, "garbage"), want: servingPair, sameCA: true},
		{name: "serving key from another pair", mutate: copyFile(AdminKeyFile, ServingKeyFile), want: servingPair, sameCA: true},
		{name: "admin certificate deleted", mutate: remove(AdminCertFile), want: adminPair, sameCA: true},
		{name: "admin certificate for another user", mutate: func(dir string) {
			copyFile(ServingCertFile, AdminCertFile)(dir)
			copyFile(ServingKeyFile, AdminKeyFile)(dir)
		}, want: adminPair, sameCA: true},
		{name: "serving certificate from another CA", mutate: func(dir string) {
			other := filepath.Join(filepath.Dir(dir), "other")
			if _, err := ensure(Options{Dir: other, ExtraSANs: []string{"tug.example.com"}}, fakeHost(t0, hostAddrs...)); err != nil {
				panic(err)
			}
			for _, name := range servingPair {
				if err := os.WriteFile(filepath.Join(dir, name), readFileOrPanic(other, name), 0o600); err != nil {
					panic(err)
				}
			}
		}, want: servingPair, sameCA: true},
		{name: "service-account public key deleted", mutate: remove(ServiceAccountPublicKeyFile),
			want: []string{ServiceAccountPublicKeyFile}, sameCA: true},
		{name: "service-account public key stale", mutate: overwrite(ServiceAccountPublicKeyFile, "stale"),
			want: []string{ServiceAccountPublicKeyFile}, sameCA: true},
		{name: "first start interrupted before the CA certificate", mutate: remove(CACertFile),
			want: slices.Concat([]string{CAKeyFile, CACertFile}, servingPair, adminPair)},
		{name: "everything but the service-account key lost", mutate: func(dir string) {
			for _, name := range allFiles[:6] {
				remove(name)(dir)
			}
		}, want: allFiles[:6]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "tls")
			first, err := ensure(baseOpts(dir), fakeHost(t0, hostAddrs...))
			if err != nil {
				t.Fatalf("first start: %v", err)
			}
			saBefore := readFile(t, dir, ServiceAccountKeyFile)
			if tt.mutate != nil {
				tt.mutate(dir)
			}
			opts := baseOpts(dir)
			if tt.opts != nil {
				tt.opts(&opts)
			}
			addrs := hostAddrs
			if tt.addrs != nil {
				addrs = tt.addrs
			}
			now := t0.Add(tt.later)
			b, err := ensure(opts, fakeHost(now, addrs...))
			if err != nil {
				t.Fatalf("restart: %v", err)
			}
			if diff := cmp.Diff(tt.want, b.Written); diff != "" {
				t.Errorf("Written (-want +got):\n%s", diff)
			}
			if got := bytes.Equal(b.CA.Raw, first.CA.Raw); got != tt.sameCA {
				t.Errorf("CA kept = %v, want %v", got, tt.sameCA)
			}
			if !bytes.Equal(readFile(t, dir, ServiceAccountKeyFile), saBefore) {
				t.Error("service-account key replaced")
			}
			if !slices.Contains(tt.want, ServingCertFile) && !bytes.Equal(b.ServingCert.Leaf.Raw, first.ServingCert.Leaf.Raw) {
				t.Error("serving certificate changed although not written")
			}
			// Whatever happened, the bundle is consistent and current.
			assertConsistent(t, b, dir, now)
			again, err := ensure(opts, fakeHost(now, addrs...))
			if err != nil {
				t.Fatalf("second restart: %v", err)
			}
			if len(again.Written) != 0 {
				t.Errorf("second restart wrote %v, want nothing", again.Written)
			}
		})
	}
}

func TestEnsureErrors(t *testing.T) {
	tests := []struct {
		name   string
		later  time.Duration
		mutate func(dir string)
	}{
		{name: "CA key lost", mutate: remove(CAKeyFile)},
		{name: "CA certificate corrupt", mutate: overwrite(CACertFile, "garbage")},
		{name: "CA key from another pair", mutate: copyFile(AdminKeyFile, CAKeyFile)},
		{name: "CA is a leaf", mutate: func(dir string) {
			copyFile(AdminCertFile, CACertFile)(dir)
			copyFile(AdminKeyFile, CAKeyFile)(dir)
		}},
		{name: "CA expired", later: 11 * 365 * 24 * time.Hour},
		{name: "service-account key corrupt", mutate: overwrite(ServiceAccountKeyFile, "garbage")},
		{name: "directory unusable", mutate: func(dir string) {
			if err := os.RemoveAll(dir); err != nil {
				panic(err)
			}
			if err := os.WriteFile(dir, nil, 0o600); err != nil {
				panic(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "tls")
			if _, err := ensure(Options{Dir: dir}, fakeHost(t0, hostAddrs...)); err != nil {
				t.Fatalf("first start: %v", err)
			}
			if tt.mutate != nil {
				tt.mutate(dir)
			}
			if b, err := ensure(Options{Dir: dir}, fakeHost(t0.Add(tt.later), hostAddrs...)); err == nil {
				t.Errorf("restart succeeded, wrote %v", b.Written)
			}
		})
	}
}

func TestEnsureInvalidOptions(t *testing.T) {
	if _, err := Ensure(Options{}); err == nil {
		t.Error("Ensure without Dir succeeded")
	}
}

func TestEnsureTightensDirMode(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := ensure(Options{Dir: dir}, fakeHost(t0)); err != nil {
		t.Fatal(err)
	}
	assertMode(t, dir, 0o700|os.ModeDir)
}

// TestEnsureRealHost runs Ensure against this machine's clock, name and
// addresses: twice, the second time reusing everything.
func TestEnsureRealHost(t *testing.T) {
	dir := t.TempDir()
	first, err := Ensure(Options{Dir: dir})
	if err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	hostname, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	if err := verify(first, first.ServingCert.Leaf, hostname, x509.ExtKeyUsageServerAuth); err != nil {
		t.Errorf("serving certificate for this host's name %q: %v", hostname, err)
	}
	second, err := Ensure(Options{Dir: dir})
	if err != nil {
		t.Fatalf("Ensure again: %v", err)
	}
	if len(second.Written) != 0 {
		t.Errorf("restart wrote %v, want nothing", second.Written)
	}
	if !bytes.Equal(first.ServingCert.Leaf.Raw, second.ServingCert.Leaf.Raw) {
		t.Error("restart changed the serving certificate")
	}
}

// verify checks cert against the bundle's CA for a host name or IP address
// (none if empty) and a usage, at the certificate's mid-life.
func verify(b *Bundle, cert *x509.Certificate, name string, usage x509.ExtKeyUsage) error {
	_, err := cert.Verify(x509.VerifyOptions{
		DNSName:     name,
		Roots:       b.CAPool(),
		CurrentTime: cert.NotBefore.Add(cert.NotAfter.Sub(cert.NotBefore) / 2),
		KeyUsages:   []x509.ExtKeyUsage{usage},
	})
	return err
}

// assertConsistent checks that the bundle matches the files and that its
// certificates chain to its CA and are valid at now.
func assertConsistent(t *testing.T, b *Bundle, dir string, now time.Time) {
	t.Helper()
	if !bytes.Equal(readFile(t, dir, CACertFile), b.CAPEM) {
		t.Error("ca.crt differs from the bundle")
	}
	if !bytes.Equal(readFile(t, dir, ServingCertFile), encodeCert(b.ServingCert.Leaf.Raw)) {
		t.Error("apiserver.crt differs from the bundle")
	}
	if !bytes.Equal(readFile(t, dir, AdminCertFile), b.AdminCertPEM) {
		t.Error("admin.crt differs from the bundle")
	}
	admin, err := tls.X509KeyPair(b.AdminCertPEM, b.AdminKeyPEM)
	if err != nil {
		t.Fatalf("admin pair: %v", err)
	}
	// A clock set back before the CA's start leaves the chain invalid until
	// then, whatever Ensure does; the leaves are still fresh.
	chainTime := now
	if now.Before(b.CA.NotBefore) {
		chainTime = b.CA.NotBefore
	}
	for _, c := range []*x509.Certificate{b.ServingCert.Leaf, admin.Leaf} {
		if now.Before(c.NotBefore) || !now.Before(c.NotAfter) {
			t.Errorf("%s valid %v to %v, not at %v", c.Subject.CommonName, c.NotBefore, c.NotAfter, now)
		}
		opts := x509.VerifyOptions{Roots: b.CAPool(), CurrentTime: chainTime, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
		if _, err := c.Verify(opts); err != nil {
			t.Errorf("%s at %v: %v", c.Subject.CommonName, chainTime, err)
		}
	}
}

func assertP256(t *testing.T, what string, pub any) {
	t.Helper()
	k, ok := pub.(*ecdsa.PublicKey)
	if !ok || k.Curve != elliptic.P256() {
		t.Errorf("%s key is %T, want ECDSA P-256", what, pub)
	}
}

func assertLifetime(t *testing.T, what string, c *x509.Certificate, want time.Duration) {
	t.Helper()
	if !c.NotBefore.Equal(t0.Add(-backdate)) || !c.NotAfter.Equal(t0.Add(want)) {
		t.Errorf("%s valid %v to %v, want %v to %v", what, c.NotBefore, c.NotAfter, t0.Add(-backdate), t0.Add(want))
	}
}

func readFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func readFileOrPanic(dir, name string) []byte {
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		panic(err)
	}
	return data
}

func remove(name string) func(dir string) {
	return func(dir string) {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			panic(err)
		}
	}
}

func overwrite(name, content string) func(dir string) {
	return func(dir string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			panic(err)
		}
	}
}

func copyFile(from, to string) func(dir string) {
	return func(dir string) {
		if err := os.WriteFile(filepath.Join(dir, to), readFileOrPanic(dir, from), 0o600); err != nil {
			panic(err)
		}
	}
}

func TestEnsureKeepsOperatorServiceAccountKey(t *testing.T) {
	dir := t.TempDir()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)})
	if err := os.WriteFile(filepath.Join(dir, ServiceAccountKeyFile), keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := ensure(Options{Dir: dir}, fakeHost(t0))
	if err != nil {
		t.Fatal(err)
	}
	if !rsaKey.Equal(b.ServiceAccountKey) {
		t.Errorf("ServiceAccountKey is not the operator's key")
	}
	if slices.Contains(b.Written, ServiceAccountKeyFile) || !slices.Contains(b.Written, ServiceAccountPublicKeyFile) {
		t.Errorf("Written = %v, want the public key but not the private one", b.Written)
	}
	wantPub, err := encodePublicKey(rsaKey.Public())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readFile(t, dir, ServiceAccountPublicKeyFile), wantPub) {
		t.Error("public key file does not match the operator's key")
	}
}

// BenchmarkEnsure measures what Ensure adds to tug server's start: the first
// start (keys, certificates, fsyncs) and a restart that reuses everything.
func BenchmarkEnsure(b *testing.B) {
	b.Run("first start", func(b *testing.B) {
		for b.Loop() {
			if _, err := Ensure(Options{Dir: b.TempDir()}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("restart", func(b *testing.B) {
		dir := b.TempDir()
		if _, err := Ensure(Options{Dir: dir}); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := Ensure(Options{Dir: dir}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
