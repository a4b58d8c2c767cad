// Package pki creates, at the first start of tug server, the cluster CA and
// the certificates and keys signed by it, and loads them again on later
// starts, renewing only what is missing, stale or about to expire.
package pki

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tugcluster/tug/internal/atomicfile"
)

// Names of the files in Options.Dir. Certificates and public keys are mode
// 0644, private keys 0600, all PEM.
const (
	// CACertFile and CAKeyFile are the cluster CA.
	CACertFile = "ca.crt"
	CAKeyFile  = "ca.key"
	// ServingCertFile and ServingKeyFile are the API server's serving
	// certificate.
	ServingCertFile = "apiserver.crt"
	ServingKeyFile  = "apiserver.key"
	// AdminCertFile and AdminKeyFile are the admin client certificate.
	AdminCertFile = "admin.crt"
	AdminKeyFile  = "admin.key"
	// ServiceAccountKeyFile and ServiceAccountPublicKeyFile are the key pair
	// that signs and verifies service-account tokens.
	ServiceAccountKeyFile       = "service-account.key"
	ServiceAccountPublicKeyFile = "service-account.pub"
)

// AdminUser and AdminGroup are the admin certificate's CN and O: the group
// is the one Kubernetes' bootstrap RBAC binds to cluster-admin.
const (
	AdminUser  = "system:admin"
	AdminGroup = "system:masters"
)

const (
	caCommonName = "tug-ca"
	// servingCommonName is informational; clients check the SANs.
	servingCommonName = "kube-apiserver"
)

// Bundle is the cluster's PKI as tug server uses it.
type Bundle struct {
	// CA is the cluster CA certificate (CN tug-ca, ECDSA P-256, ten years).
	// Every certificate in the bundle is signed by it.
	CA *x509.Certificate
	// CAPEM is CA encoded as written to ca.crt: the certificate authority
	// data of kubeconfigs and of pods' service-account volumes.
	CAPEM []byte
	// CAKey is the CA's private key; SignClientCert uses it, and later node
	// certificates are signed with it.
	CAKey crypto.Signer
	// ServingCert is the API server's certificate and key for
	// tls.Config.Certificates; Leaf is set.
	ServingCert tls.Certificate
	// AdminCertPEM and AdminKeyPEM are the admin client credentials
	// (CN system:admin, O system:masters) for the admin kubeconfig.
	AdminCertPEM []byte
	AdminKeyPEM  []byte
	// ServiceAccountKey signs service-account tokens. Ensure generates ECDSA
	// P-256, so tokens are signed with ES256; a key placed in the directory
	// by hand may be RSA (RS256).
	ServiceAccountKey crypto.Signer
	// Written lists the files the Ensure call created or renewed, by base
	// name in the order written; empty when everything was reused. It is
	// for the caller's log, and tells it to rewrite kubeconfigs built from
	// the admin certificate.
	Written []string

	now func() time.Time
}

// CAPool returns a pool holding only the cluster CA: the ClientCAs of the
// API server and the RootCAs of in-cluster clients.
func (b *Bundle) CAPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(b.CA)
	return pool
}

// SignClientCert returns a PEM client certificate for pub, signed by the
// cluster CA, with common name cn (the user) and organizations orgs (the
// groups), valid for ttl but never past the CA's expiry. pub must be an
// ECDSA, ed25519 or RSA (at least 2048 bits) public key.
func (b *Bundle) SignClientCert(cn string, orgs []string, pub crypto.PublicKey, ttl time.Duration) ([]byte, error) {
	switch {
	case cn == "":
		return nil, errors.New("sign client certificate: empty common name")
	case ttl <= 0:
		return nil, fmt.Errorf("sign client certificate for %q: ttl %v is not positive", cn, ttl)
	}
	if err := checkPublicKey(pub); err != nil {
		return nil, fmt.Errorf("sign client certificate for %q: %w", cn, err)
	}
	ca := &keyPair{cert: b.CA, key: b.CAKey}
	spec := leafSpec{commonName: cn, orgs: slices.Clone(orgs), usage: x509.ExtKeyUsageClientAuth}
	now := time.Now
	if b.now != nil {
		now = b.now
	}
	der, err := signLeaf(ca, spec, pub, now(), ttl)
	if err != nil {
		return nil, fmt.Errorf("sign client certificate for %q: %w", cn, err)
	}
	return encodeCert(der), nil
}

// Ensure loads the cluster PKI from opts.Dir, creating what is missing: on
// the first start everything, on later starts nothing unless a certificate
// needs renewing. A certificate is renewed, with a new key, when it is
// missing, unreadable, not signed by the CA, expires within 30 days, or —
// the serving certificate — lacks a name it must carry (a new host address
// or ExtraSANs entry); names it carries beyond those stay harmless. The CA
// and the service-account key are never replaced once they exist, since
// that would invalidate every credential issued from them: an unreadable
// or expired CA is an error.
//
// Each file is written atomically, keys before certificates, so a crash
// leaves each file whole and the next call finishes the job. Ensure is not
// safe for concurrent use on one directory; tug server holds the data
// directory.
func Ensure(opts Options) (*Bundle, error) {
	return ensure(opts, systemHost())
}

// host is what Ensure reads from the machine, replaceable in tests.
type host struct {
	now            func() time.Time
	hostname       func() (string, error)
	interfaceAddrs func() ([]net.Addr, error)
}

func systemHost() host {
	return host{now: time.Now, hostname: os.Hostname, interfaceAddrs: net.InterfaceAddrs}
}

func ensure(opts Options, h host) (*Bundle, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	if err := ensureDir(opts.Dir); err != nil {
		return nil, err
	}
	s := &store{dir: opts.Dir}
	now := h.now()

	ca, err := s.ensureCA(now)
	if err != nil {
		return nil, err
	}
	servingSpec, err := servingSpec(opts, h)
	if err != nil {
		return nil, err
	}
	serving, err := s.ensureLeaf(ca, servingSpec, ServingCertFile, ServingKeyFile, now)
	if err != nil {
		return nil, err
	}
	adminSpec := leafSpec{commonName: AdminUser, orgs: []string{AdminGroup}, usage: x509.ExtKeyUsageClientAuth}
	admin, err := s.ensureLeaf(ca, adminSpec, AdminCertFile, AdminKeyFile, now)
	if err != nil {
		return nil, err
	}
	saKey, err := s.ensureServiceAccountKey()
	if err != nil {
		return nil, err
	}

	return &Bundle{
		CA:    ca.cert,
		CAPEM: ca.certPEM,
		CAKey: ca.key,
		ServingCert: tls.Certificate{
			Certificate: [][]byte{serving.cert.Raw},
			PrivateKey:  serving.key,
			Leaf:        serving.cert,
		},
		AdminCertPEM:      admin.certPEM,
		AdminKeyPEM:       admin.keyPEM,
		ServiceAccountKey: saKey,
		Written:           s.written,
		now:               h.now,
	}, nil
}

// ensureDir creates dir with mode 0700, or tightens an existing one to it:
// the directory holds private keys.
func ensureDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create PKI directory: %w", err)
	}
	info, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("create PKI directory: %w", err)
	}
	if info.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("restrict PKI directory: %w", err)
		}
	}
	return nil
}

// servingSpec lists the names the API server's certificate must carry.
// Link-local addresses are left out: every veth of a pod has an IPv6 one,
// so they would force a new certificate at each restart, and no client
// dials them.
func servingSpec(opts Options, h host) (leafSpec, error) {
	hostname, err := h.hostname()
	if err != nil {
		return leafSpec{}, fmt.Errorf("serving certificate names: %w", err)
	}
	addrs, err := h.interfaceAddrs()
	if err != nil {
		return leafSpec{}, fmt.Errorf("serving certificate names: list interface addresses: %w", err)
	}
	dns := []string{
		"localhost",
		strings.ToLower(hostname),
		"kubernetes",
		"kubernetes.default",
		"kubernetes.default.svc",
		"kubernetes.default.svc." + opts.ClusterDomain,
	}
	ips := []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback, opts.ServiceIP}
	for _, a := range addrs {
		var ip net.IP
		switch a := a.(type) {
		case *net.IPNet:
			ip = a.IP
		case *net.IPAddr:
			ip = a.IP
		}
		if ip == nil || ip.IsUnspecified() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() {
			continue
		}
		ips = append(ips, ip)
	}
	for _, san := range opts.ExtraSANs {
		if ip := net.ParseIP(san); ip != nil {
			ips = append(ips, ip)
		} else {
			dns = append(dns, strings.ToLower(san))
		}
	}
	return leafSpec{
		commonName: servingCommonName,
		dnsNames:   dedupe(dns, func(s string) string { return s }),
		ips:        dedupe(ips, net.IP.String),
		usage:      x509.ExtKeyUsageServerAuth,
	}, nil
}

// dedupe drops empty and repeated entries, keeping the first of each.
func dedupe[T any](in []T, key func(T) string) []T {
	seen := map[string]bool{"": true, "<nil>": true}
	out := make([]T, 0, len(in))
	for _, v := range in {
		k := key(v)
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, v)
	}
	return out
}

// store reads and writes the files of one PKI directory and remembers what
// it wrote.
type store struct {
	dir     string
	written []string
}

func (s *store) path(name string) string { return filepath.Join(s.dir, name) }

// read returns a file's content, or nil and no error if it does not exist.
func (s *store) read(name string) ([]byte, error) {
	data, err := os.ReadFile(s.path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return data, err
}

func (s *store) write(name string, data []byte, perm os.FileMode) error {
	if err := atomicfile.Write(s.path(name), data, perm); err != nil {
		return err
	}
	s.written = append(s.written, name)
	return nil
}

// writePair writes the key first: a crash in between leaves a key without
// its certificate (or with an old one that does not match), which the next
// start replaces.
func (s *store) writePair(p *keyPair, certFile, keyFile string) error {
	if err := s.write(keyFile, p.keyPEM, 0o600); err != nil {
		return err
	}
	return s.write(certFile, p.certPEM, 0o644)
}

func (s *store) ensureCA(now time.Time) (*keyPair, error) {
	certPEM, err := s.read(CACertFile)
	if err != nil {
		return nil, fmt.Errorf("load cluster CA: %w", err)
	}
	keyPEM, err := s.read(CAKeyFile)
	if err != nil {
		return nil, fmt.Errorf("load cluster CA: %w", err)
	}
	switch {
	case certPEM != nil && keyPEM != nil:
		ca, err := parseKeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("load cluster CA from %s: %w", s.dir, err)
		}
		if !ca.cert.IsCA {
			return nil, fmt.Errorf("load cluster CA: %s is not a CA certificate", s.path(CACertFile))
		}
		if now.After(ca.cert.NotAfter) {
			return nil, fmt.Errorf("cluster CA %s expired at %s; replacing it means new credentials for every client and node",
				s.path(CACertFile), ca.cert.NotAfter.Format(time.RFC3339))
		}
		return ca, nil
	case certPEM != nil:
		return nil, fmt.Errorf("load cluster CA: %s exists but its key %s does not", s.path(CACertFile), s.path(CAKeyFile))
	}
	// No CA, or a key without its certificate: a first start, perhaps one
	// interrupted before the certificate was written. Nothing has been
	// signed by such a key, so a new CA replaces it.
	ca, err := newCA(now)
	if err != nil {
		return nil, fmt.Errorf("create cluster CA: %w", err)
	}
	if err := s.writePair(ca, CACertFile, CAKeyFile); err != nil {
		return nil, fmt.Errorf("create cluster CA: %w", err)
	}
	return ca, nil
}

func (s *store) ensureLeaf(ca *keyPair, spec leafSpec, certFile, keyFile string, now time.Time) (*keyPair, error) {
	certPEM, err := s.read(certFile)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", certFile, err)
	}
	keyPEM, err := s.read(keyFile)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", keyFile, err)
	}
	if certPEM != nil && keyPEM != nil {
		// An unreadable or mismatched pair is replaced like a stale one:
		// the CA can always issue another.
		if p, err := parseKeyPair(certPEM, keyPEM); err == nil && leafUsable(p, ca, spec, now) {
			return p, nil
		}
	}
	p, err := newLeaf(ca, spec, now)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", certFile, err)
	}
	if err := s.writePair(p, certFile, keyFile); err != nil {
		return nil, fmt.Errorf("create %s: %w", certFile, err)
	}
	return p, nil
}

// ensureServiceAccountKey loads or creates the service-account signing key
// and (re)writes its public half if that is missing or does not match.
func (s *store) ensureServiceAccountKey() (crypto.Signer, error) {
	keyPEM, err := s.read(ServiceAccountKeyFile)
	if err != nil {
		return nil, fmt.Errorf("load service-account key: %w", err)
	}
	var key crypto.Signer
	if keyPEM != nil {
		if key, err = parseKey(keyPEM); err != nil {
			return nil, fmt.Errorf("load service-account key %s: %w", s.path(ServiceAccountKeyFile), err)
		}
	} else {
		ecKey, err := newKey()
		if err != nil {
			return nil, fmt.Errorf("create service-account key: %w", err)
		}
		key = ecKey
		if keyPEM, err = encodeKey(key); err != nil {
			return nil, fmt.Errorf("create service-account key: %w", err)
		}
		if err := s.write(ServiceAccountKeyFile, keyPEM, 0o600); err != nil {
			return nil, fmt.Errorf("create service-account key: %w", err)
		}
	}
	pubPEM, err := encodePublicKey(key.Public())
	if err != nil {
		return nil, fmt.Errorf("encode service-account public key: %w", err)
	}
	have, err := s.read(ServiceAccountPublicKeyFile)
	if err != nil {
		return nil, fmt.Errorf("load service-account public key: %w", err)
	}
	if string(have) != string(pubPEM) {
		if err := s.write(ServiceAccountPublicKeyFile, pubPEM, 0o644); err != nil {
			return nil, fmt.Errorf("write service-account public key: %w", err)
		}
	}
	return key, nil
}
