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
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"k8s.io/client-go/rest"

	"github.com/tugcluster/tug/internal/atomicfile"
)

// Files NodeCredentials keeps in its directory (tug agent uses
// <data-dir>/agent/tls). Keys are mode 0600, certificates 0644, all PEM.
const (
	CAFile          = "ca.crt"
	ClientCertFile  = "node.crt"
	ClientKeyFile   = "node.key"
	ServingCertFile = "kubelet.crt"
	ServingKeyFile  = "kubelet.key"
)

// RenewBefore is how long before expiry a stored certificate is replaced.
const RenewBefore = 30 * 24 * time.Hour

// Credentials are what a node agent needs to talk to the API server and to
// serve the kubelet API.
type Credentials struct {
	// Config reaches the API server as system:node:<name> (group
	// system:nodes) with the client certificate, verifying the server by
	// the cluster CA. It names the certificate files, so client-go picks
	// up renewed ones.
	Config *rest.Config
	// ServingCert is the kubelet's serving certificate; Leaf is set.
	ServingCert tls.Certificate
	// CAPool holds the cluster CA: the kubelet server's ClientCAs.
	CAPool *x509.CertPool
	// CAPEM is the cluster CA as PEM.
	CAPEM []byte
}

// NodeCredentials returns the credentials of node nodeName, kept in dir:
// those stored there when they are still good — signed by the cluster CA,
// valid for longer than RenewBefore, for this node and, for the serving
// certificate, carrying every address in ips and name in dnsNames —
// otherwise new ones, for keys generated here (ECDSA P-256; private keys
// never leave the machine), signed by the server at serverURL, which the
// join token authenticates. The CA comes from the server as FetchCA
// verifies it; if the server cannot be reached, credentials stored earlier
// are used as long as they are good. At least one of ips and dnsNames is
// required.
func NodeCredentials(ctx context.Context, serverURL, token, dir, nodeName string, ips []net.IP, dnsNames []string) (*Credentials, error) {
	if len(ips) == 0 && len(dnsNames) == 0 {
		return nil, errors.New("node credentials: the kubelet's serving certificate needs at least one IP address or DNS name")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("node credentials: %w", err)
	}
	want := wantedCerts(nodeName, ips, dnsNames)
	caPEM, fetchErr := FetchCA(ctx, serverURL, token)
	if fetchErr != nil {
		creds, err := storedCredentials(serverURL, dir, want)
		if err != nil {
			return nil, fmt.Errorf("node credentials: %w (and none stored are usable: %w)", fetchErr, err)
		}
		return creds, nil
	}
	ca, err := parseCA(caPEM)
	if err != nil {
		return nil, fmt.Errorf("node credentials: %w", err)
	}
	if stored, _ := os.ReadFile(filepath.Join(dir, CAFile)); !bytes.Equal(stored, caPEM) {
		if err := atomicfile.Write(filepath.Join(dir, CAFile), caPEM, 0o644); err != nil {
			return nil, fmt.Errorf("node credentials: %w", err)
		}
	}
	now := time.Now()
	var stale []certSpec
	for _, spec := range want {
		if _, err := loadPair(dir, spec, ca, now); err != nil {
			stale = append(stale, spec)
		}
	}
	if len(stale) > 0 {
		if err := requestCerts(ctx, serverURL, token, dir, nodeName, caPEM, ca, stale); err != nil {
			return nil, fmt.Errorf("node credentials: %w", err)
		}
	}
	return storedCredentials(serverURL, dir, want)
}

// certSpec is what one of the node's certificates must be.
type certSpec struct {
	certFile, keyFile string
	commonName        string
	orgs              []string
	usage             x509.ExtKeyUsage
	ips               []net.IP
	dnsNames          []string
}

func wantedCerts(nodeName string, ips []net.IP, dnsNames []string) []certSpec {
	user := NodeUserPrefix + nodeName
	return []certSpec{
		{certFile: ClientCertFile, keyFile: ClientKeyFile, commonName: user, orgs: []string{NodesGroup}, usage: x509.ExtKeyUsageClientAuth},
		{certFile: ServingCertFile, keyFile: ServingKeyFile, commonName: user, usage: x509.ExtKeyUsageServerAuth, ips: ips, dnsNames: dnsNames},
	}
}

// storedCredentials builds Credentials from dir, if everything there is
// good.
func storedCredentials(serverURL, dir string, want []certSpec) (*Credentials, error) {
	caPEM, err := os.ReadFile(filepath.Join(dir, CAFile))
	if err != nil {
		return nil, err
	}
	ca, err := parseCA(caPEM)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	var pairs []tls.Certificate
	for _, spec := range want {
		pair, err := loadPair(dir, spec, ca, now)
		if err != nil {
			return nil, err
		}
		pairs = append(pairs, pair)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return &Credentials{
		Config: &rest.Config{Host: serverURL, TLSClientConfig: rest.TLSClientConfig{
			CAData:   caPEM,
			CertFile: filepath.Join(dir, want[0].certFile),
			KeyFile:  filepath.Join(dir, want[0].keyFile),
		}},
		ServingCert: pairs[1],
		CAPool:      pool,
		CAPEM:       caPEM,
	}, nil
}

func parseCA(caPEM []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(caPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("cluster CA is not a PEM certificate")
	}
	ca, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("cluster CA: %w", err)
	}
	return ca, nil
}

// loadPair reads a stored certificate and key and checks them against
// spec; an error says why they cannot be used.
func loadPair(dir string, spec certSpec, ca *x509.Certificate, now time.Time) (tls.Certificate, error) {
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, spec.certFile), filepath.Join(dir, spec.keyFile))
	if err != nil {
		return pair, err
	}
	if err := checkCert(pair.Leaf, spec, ca, now); err != nil {
		return pair, fmt.Errorf("%s: %w", spec.certFile, err)
	}
	return pair, nil
}

// checkCert reports why cert does not meet spec, or nil. It may carry
// more names than spec asks.
func checkCert(cert *x509.Certificate, spec certSpec, ca *x509.Certificate, now time.Time) error {
	switch {
	case cert.CheckSignatureFrom(ca) != nil:
		return errors.New("not signed by the cluster CA")
	case now.Before(cert.NotBefore):
		return fmt.Errorf("not valid before %s", cert.NotBefore.Format(time.RFC3339))
	case now.Add(RenewBefore).After(cert.NotAfter):
		return fmt.Errorf("expires at %s", cert.NotAfter.Format(time.RFC3339))
	case cert.Subject.CommonName != spec.commonName:
		return fmt.Errorf("is for %q, not %q", cert.Subject.CommonName, spec.commonName)
	case spec.orgs != nil && !slices.Equal(cert.Subject.Organization, spec.orgs):
		return fmt.Errorf("has groups %q, not %q", cert.Subject.Organization, spec.orgs)
	case !slices.Contains(cert.ExtKeyUsage, spec.usage):
		return errors.New("lacks the key usage")
	}
	for _, ip := range spec.ips {
		if !slices.ContainsFunc(cert.IPAddresses, ip.Equal) {
			return fmt.Errorf("lacks IP address %s", ip)
		}
	}
	for _, name := range spec.dnsNames {
		if !slices.ContainsFunc(cert.DNSNames, func(have string) bool { return strings.EqualFold(have, name) }) {
			return fmt.Errorf("lacks DNS name %s", name)
		}
	}
	return nil
}

// newKeyAndCSR generates a key and a certificate request for spec.
func newKeyAndCSR(spec certSpec) (crypto.Signer, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject:     pkix.Name{CommonName: spec.commonName, Organization: spec.orgs},
		IPAddresses: spec.ips,
		DNSNames:    spec.dnsNames,
	}, key)
	if err != nil {
		return nil, nil, err
	}
	return key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), nil
}

// requestCerts gets the certificates of specs signed by the server and
// stores them with their new keys, each key before its certificate, so a
// crash in between leaves a pair that does not match, which the next
// start replaces.
func requestCerts(ctx context.Context, serverURL, token, dir, nodeName string, caPEM []byte, ca *x509.Certificate, specs []certSpec) error {
	req := nodeCertsRequest{NodeName: nodeName}
	keys := map[string]crypto.Signer{}
	for _, spec := range specs {
		key, csr, err := newKeyAndCSR(spec)
		if err != nil {
			return fmt.Errorf("create %s request: %w", spec.certFile, err)
		}
		keys[spec.certFile] = key
		switch spec.certFile {
		case ClientCertFile:
			req.ClientCSR = string(csr)
		case ServingCertFile:
			req.ServingCSR = string(csr)
		}
	}
	resp, err := postNodeCerts(ctx, serverURL, token, caPEM, req)
	if err != nil {
		return err
	}
	now := time.Now()
	for _, spec := range specs {
		certPEM := resp.ClientCert
		if spec.certFile == ServingCertFile {
			certPEM = resp.ServingCert
		}
		if err := storePair(dir, spec, keys[spec.certFile], []byte(certPEM), ca, now); err != nil {
			return err
		}
	}
	return nil
}

// storePair checks a certificate the server issued and writes it with
// its key.
func storePair(dir string, spec certSpec, key crypto.Signer, certPEM []byte, ca *x509.Certificate, now time.Time) error {
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return fmt.Errorf("server issued an unusable %s: %w", spec.certFile, err)
	}
	if err := checkCert(pair.Leaf, spec, ca, now); err != nil {
		return fmt.Errorf("server issued a %s that %w", spec.certFile, err)
	}
	if err := atomicfile.Write(filepath.Join(dir, spec.keyFile), keyPEM, 0o600); err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, spec.certFile), certPEM, 0o644)
}

// postNodeCerts sends req to the server, verified by the CA, with the join
// token.
func postNodeCerts(ctx context.Context, serverURL, token string, caPEM []byte, req nodeCertsRequest) (*nodeCertsResponse, error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return nil, fmt.Errorf("server URL: %w", err)
	}
	u.Path = NodeCertsPath
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	httpReq, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	httpReq.Header.Set("Content-Type", "application/json")
	httpReq.Header.Set("Authorization", "Bearer "+token)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	transport := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	defer transport.CloseIdleConnections()
	client := &http.Client{Timeout: 30 * time.Second, Transport: transport}
	resp, err := client.Do(httpReq)
	if err != nil {
		return nil, fmt.Errorf("request node certificates: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxNodeCertsBody))
	if err != nil {
		return nil, fmt.Errorf("request node certificates: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("request node certificates: %s: %s", resp.Status, strings.TrimSpace(string(data)))
	}
	var out nodeCertsResponse
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("request node certificates: decode answer: %w", err)
	}
	return &out, nil
}
