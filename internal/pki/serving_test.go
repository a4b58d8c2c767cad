package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"path/filepath"
	"testing"
	"time"
)

func TestSignServingCert(t *testing.T) {
	b, err := ensure(Options{Dir: filepath.Join(t.TempDir(), "tls")}, fakeHost(t0))
	if err != nil {
		t.Fatal(err)
	}
	key := mustKey(t, func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) })
	smallRSA := mustKey(t, func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 1024) })
	tests := []struct {
		name    string
		cn      string
		sans    []string
		pub     crypto.PublicKey
		ttl     time.Duration
		wantErr bool
	}{
		{name: "kubelet on an IP and a name", cn: "node1", sans: []string{"127.0.0.1", "node1"}, pub: key.Public(), ttl: time.Hour},
		{name: "empty common name", sans: []string{"127.0.0.1"}, pub: key.Public(), ttl: time.Hour, wantErr: true},
		{name: "no names", cn: "node1", pub: key.Public(), ttl: time.Hour, wantErr: true},
		{name: "zero ttl", cn: "node1", sans: []string{"node1"}, pub: key.Public(), wantErr: true},
		{name: "weak key", cn: "node1", sans: []string{"node1"}, pub: smallRSA.Public(), ttl: time.Hour, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			certPEM, err := b.SignServingCert(tt.cn, tt.sans, tt.pub, tt.ttl)
			if (err != nil) != tt.wantErr {
				t.Fatalf("SignServingCert() error = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			block, _ := pem.Decode(certPEM)
			if block == nil {
				t.Fatalf("no PEM certificate: %q", certPEM)
			}
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			if !cert.NotAfter.Equal(t0.Add(tt.ttl)) {
				t.Errorf("NotAfter %v, want %v", cert.NotAfter, t0.Add(tt.ttl))
			}
			for _, name := range tt.sans {
				if err := verify(b, cert, name, x509.ExtKeyUsageServerAuth); err != nil {
					t.Errorf("not a serving certificate for %s: %v", name, err)
				}
			}
			if err := verify(b, cert, "other", x509.ExtKeyUsageServerAuth); err == nil {
				t.Error("certificate valid for a name it was not signed for")
			}
			if err := verify(b, cert, "", x509.ExtKeyUsageClientAuth); err == nil {
				t.Error("serving certificate is valid for client authentication")
			}
		})
	}
}
