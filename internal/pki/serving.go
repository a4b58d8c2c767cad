package pki

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"time"
)

// SignServingCert returns a PEM serving certificate for pub, signed by the
// cluster CA, with common name cn and the subject alternative names sans
// (each an IP address or a DNS name), valid for ttl but never past the CA's
// expiry. A kubelet's HTTPS endpoint is served with one, so that the API
// server, which trusts the cluster CA, can verify it. pub must be an ECDSA,
// ed25519 or RSA (at least 2048 bits) public key.
func (b *Bundle) SignServingCert(cn string, sans []string, pub crypto.PublicKey, ttl time.Duration) ([]byte, error) {
	switch {
	case cn == "":
		return nil, errors.New("sign serving certificate: empty common name")
	case len(sans) == 0:
		return nil, fmt.Errorf("sign serving certificate for %q: no subject alternative names", cn)
	case ttl <= 0:
		return nil, fmt.Errorf("sign serving certificate for %q: ttl %v is not positive", cn, ttl)
	}
	if err := checkPublicKey(pub); err != nil {
		return nil, fmt.Errorf("sign serving certificate for %q: %w", cn, err)
	}
	spec := leafSpec{commonName: cn, usage: x509.ExtKeyUsageServerAuth}
	for _, san := range sans {
		if ip := net.ParseIP(san); ip != nil {
			spec.ips = append(spec.ips, ip)
		} else {
			spec.dnsNames = append(spec.dnsNames, san)
		}
	}
	now := time.Now
	if b.now != nil {
		now = b.now
	}
	der, err := signLeaf(&keyPair{cert: b.CA, key: b.CAKey}, spec, pub, now(), ttl)
	if err != nil {
		return nil, fmt.Errorf("sign serving certificate for %q: %w", cn, err)
	}
	return encodeCert(der), nil
}
