package pki

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"slices"
	"strings"
	"time"
)

// Lifetimes and renewal. Certificates start a little in the past so that a
// peer whose clock lags ours still accepts a certificate made a moment ago.
const (
	caLifetime   = 10 * 365 * 24 * time.Hour
	leafLifetime = 365 * 24 * time.Hour
	renewBefore  = 30 * 24 * time.Hour
	backdate     = 5 * time.Minute
)

// newKey makes the key of every certificate and of the service-account
// signer: ECDSA P-256 is as strong as RSA 3072 and takes microseconds to
// generate, where RSA takes tens of milliseconds a key, which matters for a
// first start that must be ready in well under a second.
func newKey() (*ecdsa.PrivateKey, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

// serialNumber returns a random 127-bit serial, positive as RFC 5280 asks.
func serialNumber() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}

// keyPair is a certificate with its private key, decoded and as PEM.
type keyPair struct {
	cert    *x509.Certificate
	key     crypto.Signer
	certPEM []byte
	keyPEM  []byte
}

// parseKeyPair decodes a PEM certificate and key and checks that they
// belong together.
func parseKeyPair(certPEM, keyPEM []byte) (*keyPair, error) {
	tc, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	signer, ok := tc.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported private key type %T", tc.PrivateKey)
	}
	leaf := tc.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(tc.Certificate[0]); err != nil {
			return nil, err
		}
	}
	return &keyPair{cert: leaf, key: signer, certPEM: certPEM, keyPEM: keyPEM}, nil
}

// newCA makes the self-signed cluster CA.
func newCA(now time.Time) (*keyPair, error) {
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: caCommonName},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(caLifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	return newKeyPair(der, key)
}

// leafSpec describes a certificate signed by the CA.
type leafSpec struct {
	commonName string
	orgs       []string
	dnsNames   []string
	ips        []net.IP
	usage      x509.ExtKeyUsage
}

// signLeaf signs a certificate for pub as spec says, valid for ttl but never
// past the CA's own expiry.
func signLeaf(ca *keyPair, spec leafSpec, pub crypto.PublicKey, now time.Time, ttl time.Duration) ([]byte, error) {
	serial, err := serialNumber()
	if err != nil {
		return nil, err
	}
	notAfter := now.Add(ttl)
	if notAfter.After(ca.cert.NotAfter) {
		notAfter = ca.cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: spec.commonName, Organization: spec.orgs},
		NotBefore:    now.Add(-backdate),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{spec.usage},
		DNSNames:     spec.dnsNames,
		IPAddresses:  spec.ips,
	}
	if _, ok := pub.(*rsa.PublicKey); ok {
		// RSA key exchange in TLS 1.2 encrypts with the certificate's key.
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	return x509.CreateCertificate(rand.Reader, tmpl, ca.cert, pub, ca.key)
}

// newLeaf makes a fresh key and a certificate for it signed by ca.
func newLeaf(ca *keyPair, spec leafSpec, now time.Time) (*keyPair, error) {
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	der, err := signLeaf(ca, spec, key.Public(), now, leafLifetime)
	if err != nil {
		return nil, err
	}
	return newKeyPair(der, key)
}

func newKeyPair(der []byte, key crypto.Signer) (*keyPair, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, err
	}
	return &keyPair{cert: cert, key: key, certPEM: encodeCert(der), keyPEM: keyPEM}, nil
}

// leafUsable reports whether a certificate found on disk can stay: signed by
// ca, with the subject, usage and names spec asks for (it may carry more
// names), and valid now and for longer than the renewal margin.
func leafUsable(p *keyPair, ca *keyPair, spec leafSpec, now time.Time) bool {
	c := p.cert
	switch {
	case c.CheckSignatureFrom(ca.cert) != nil,
		now.Before(c.NotBefore),
		now.Add(renewBefore).After(c.NotAfter),
		c.Subject.CommonName != spec.commonName,
		!slices.Equal(c.Subject.Organization, spec.orgs),
		!slices.Contains(c.ExtKeyUsage, spec.usage):
		return false
	}
	for _, name := range spec.dnsNames {
		if !slices.ContainsFunc(c.DNSNames, func(have string) bool { return strings.EqualFold(have, name) }) {
			return false
		}
	}
	for _, ip := range spec.ips {
		if !slices.ContainsFunc(c.IPAddresses, ip.Equal) {
			return false
		}
	}
	return true
}

// checkPublicKey rejects keys a client certificate must not carry.
func checkPublicKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k == nil {
			return errors.New("nil public key")
		}
	case *rsa.PublicKey:
		if k == nil {
			return errors.New("nil public key")
		}
		if k.N.BitLen() < 2048 {
			return fmt.Errorf("RSA key of %d bits is too small, need at least 2048", k.N.BitLen())
		}
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return errors.New("malformed ed25519 public key")
		}
	case *ecdh.PublicKey:
		return errors.New("ECDH keys cannot be certified for signing")
	case nil:
		return errors.New("nil public key")
	default:
		return fmt.Errorf("unsupported public key type %T", pub)
	}
	return nil
}

func encodeCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// encodeKey writes a private key as PKCS #8, which reads back whatever the
// key's algorithm.
func encodeKey(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func encodePublicKey(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// parseKey decodes the first private key in data: PKCS #8, or the older
// PKCS #1 (RSA) and SEC 1 (EC) forms other tools write.
func parseKey(data []byte) (crypto.Signer, error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, errors.New("no private key found in PEM data")
		}
		var key any
		var err error
		switch block.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(block.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, err
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("unsupported private key type %T", key)
		}
		return signer, nil
	}
}
