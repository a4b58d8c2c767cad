package pki

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestSignClientCert(t *testing.T) {
	b, err := ensure(Options{Dir: filepath.Join(t.TempDir(), "tls")}, fakeHost(t0))
	if err != nil {
		t.Fatal(err)
	}
	ecKey := mustKey(t, func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) })
	rsaKey := mustKey(t, func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 2048) })
	smallRSA := mustKey(t, func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 1024) })
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	x25519, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name         string
		cn           string
		orgs         []string
		pub          crypto.PublicKey
		ttl          time.Duration
		wantNotAfter time.Time
		wantErr      bool
	}{
		{name: "kubelet, ECDSA", cn: "system:node:n1", orgs: []string{"system:nodes"}, pub: ecKey.Public(),
			ttl: 365 * 24 * time.Hour, wantNotAfter: t0.Add(365 * 24 * time.Hour)},
		{name: "RSA 2048, no groups", cn: "alice", pub: rsaKey.Public(), ttl: time.Hour, wantNotAfter: t0.Add(time.Hour)},
		{name: "ed25519, two groups", cn: "bob", orgs: []string{"dev", "ops"}, pub: edPub, ttl: time.Minute, wantNotAfter: t0.Add(time.Minute)},
		{name: "capped at the CA's expiry", cn: "carol", pub: ecKey.Public(), ttl: 20 * 365 * 24 * time.Hour, wantNotAfter: b.CA.NotAfter},
		{name: "empty common name", cn: "", pub: ecKey.Public(), ttl: time.Hour, wantErr: true},
		{name: "zero ttl", cn: "x", pub: ecKey.Public(), wantErr: true},
		{name: "negative ttl", cn: "x", pub: ecKey.Public(), ttl: -time.Hour, wantErr: true},
		{name: "nil key", cn: "x", ttl: time.Hour, wantErr: true},
		{name: "nil ECDSA key", cn: "x", pub: (*ecdsa.PublicKey)(nil), ttl: time.Hour, wantErr: true},
		{name: "RSA 1024", cn: "x", pub: smallRSA.Public(), ttl: time.Hour, wantErr: true},
		{name: "X25519", cn: "x", pub: x25519.PublicKey(), ttl: time.Hour, wantErr: true},
		{name: "private key", cn: "x", pub: ecKey, ttl: time.Hour, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			certPEM, err := b.SignClientCert(tt.cn, tt.orgs, tt.pub, tt.ttl)
			if (err != nil) != tt.wantErr {
				t.Fatalf("SignClientCert() error = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			block, rest := pem.Decode(certPEM)
			if block == nil || block.Type != "CERTIFICATE" || len(rest) != 0 {
				t.Fatalf("not one PEM certificate: %q", certPEM)
			}
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			if cert.Subject.CommonName != tt.cn || !slices.Equal(cert.Subject.Organization, tt.orgs) {
				t.Errorf("subject %v, want CN %q O %q", cert.Subject, tt.cn, tt.orgs)
			}
			if !cert.NotAfter.Equal(tt.wantNotAfter) || !cert.NotBefore.Equal(t0.Add(-backdate)) {
				t.Errorf("valid %v to %v, want %v to %v", cert.NotBefore, cert.NotAfter, t0.Add(-backdate), tt.wantNotAfter)
			}
			if !tt.pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(cert.PublicKey) {
				t.Error("certificate is for another key")
			}
			if err := verify(b, cert, "", x509.ExtKeyUsageClientAuth); err != nil {
				t.Errorf("not a client certificate of the CA: %v", err)
			}
			if err := verify(b, cert, "", x509.ExtKeyUsageServerAuth); err == nil {
				t.Error("client certificate is valid for serving")
			}
		})
	}
}

func TestParseKey(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := encodeKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	sec1DER, err := x509.MarshalECPrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	sec1 := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1DER})
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)})
	pub, err := encodePublicKey(ec.Public())
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		data    []byte
		want    crypto.PublicKey
		wantErr bool
	}{
		{name: "PKCS #8", data: pkcs8, want: ec.Public()},
		{name: "SEC 1", data: sec1, want: ec.Public()},
		{name: "PKCS #1", data: pkcs1, want: rsaKey.Public()},
		{name: "after a public key", data: append(slices.Clone(pub), pkcs8...), want: ec.Public()},
		{name: "public key only", data: pub, wantErr: true},
		{name: "not PEM", data: []byte("garbage"), wantErr: true},
		{name: "empty", wantErr: true},
		{name: "corrupt body", data: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}}), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseKey(tt.data)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseKey() error = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if !tt.want.(interface{ Equal(crypto.PublicKey) bool }).Equal(got.Public()) {
				t.Error("parseKey returned another key")
			}
		})
	}
}

func mustKey(t *testing.T, gen func() (crypto.Signer, error)) crypto.Signer {
	t.Helper()
	k, err := gen()
	if err != nil {
		t.Fatal(err)
	}
	return k
}
