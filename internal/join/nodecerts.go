package join

import (
	"crypto"
	"crypto/subtle"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
)

// NodeCertsPath is where a node agent trades the join token and
// certificate requests for its credentials: a client certificate to talk
// to the API server as system:node:<name>, and the kubelet's serving
// certificate. Only the join token is accepted there, not a node's
// certificate, so that one node cannot obtain another's identity.
const NodeCertsPath = "/tug/v1/nodecerts"

// Node identities, as Kubernetes' node authorizer expects them.
const (
	NodeUserPrefix = "system:node:"
	NodesGroup     = "system:nodes"
)

// NodeCertLifetime is how long node certificates are valid; agents renew
// them within RenewBefore of expiry, at their next start.
const NodeCertLifetime = 365 * 24 * time.Hour

// maxNodeCertsBody bounds a request: two CSRs are a few kilobytes.
const maxNodeCertsBody = 64 << 10

// CertSigner signs certificates with the cluster CA; *pki.Bundle is one.
type CertSigner interface {
	SignClientCert(cn string, orgs []string, pub crypto.PublicKey, ttl time.Duration) ([]byte, error)
	SignServingCert(cn string, sans []string, pub crypto.PublicKey, ttl time.Duration) ([]byte, error)
}

// nodeCertsRequest is the JSON body of a POST to NodeCertsPath. Either
// CSR may be omitted, to renew only the other certificate.
type nodeCertsRequest struct {
	NodeName string `json:"nodeName"`
	// ClientCSR is a PEM certificate request for the client certificate.
	// Its subject and names are ignored: the server decides who a node is.
	ClientCSR string `json:"clientCSR,omitempty"`
	// ServingCSR is a PEM certificate request whose IP addresses and DNS
	// names become the serving certificate's.
	ServingCSR string `json:"servingCSR,omitempty"`
}

// nodeCertsResponse holds the PEM certificates for the CSRs sent.
type nodeCertsResponse struct {
	ClientCert  string `json:"clientCert,omitempty"`
	ServingCert string `json:"servingCert,omitempty"`
}

// NodeCertsHandler serves NodeCertsPath: it checks the bearer token
// against token and signs the request's CSRs with signer. Bad requests
// get 400 with the reason as plain text.
func NodeCertsHandler(token string, signer CertSigner) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "use POST", http.StatusMethodNotAllowed)
			return
		}
		bearer, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if token == "" || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(bearer)), []byte(token)) != 1 {
			http.Error(w, "node certificates are issued only for the join token", http.StatusUnauthorized)
			return
		}
		var req nodeCertsRequest
		dec := json.NewDecoder(io.LimitReader(r.Body, maxNodeCertsBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			http.Error(w, fmt.Sprintf("decode request: %v", err), http.StatusBadRequest)
			return
		}
		resp, err := signNodeCerts(signer, req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(resp)
	})
}

// signNodeCerts checks a request and signs its CSRs. Every error is the
// requester's fault: the signer refuses only keys it cannot certify.
func signNodeCerts(signer CertSigner, req nodeCertsRequest) (*nodeCertsResponse, error) {
	if msgs := validation.IsDNS1123Subdomain(req.NodeName); len(msgs) > 0 {
		return nil, fmt.Errorf("node name %q: %s", req.NodeName, strings.Join(msgs, "; "))
	}
	if req.ClientCSR == "" && req.ServingCSR == "" {
		return nil, errors.New("no certificate requests: send clientCSR, servingCSR or both")
	}
	user := NodeUserPrefix + req.NodeName
	resp := &nodeCertsResponse{}
	if req.ClientCSR != "" {
		csr, err := parseCSR(req.ClientCSR)
		if err != nil {
			return nil, fmt.Errorf("clientCSR: %w", err)
		}
		cert, err := signer.SignClientCert(user, []string{NodesGroup}, csr.PublicKey, NodeCertLifetime)
		if err != nil {
			return nil, fmt.Errorf("clientCSR: %w", err)
		}
		resp.ClientCert = string(cert)
	}
	if req.ServingCSR != "" {
		csr, err := parseCSR(req.ServingCSR)
		if err != nil {
			return nil, fmt.Errorf("servingCSR: %w", err)
		}
		sans, err := servingSANs(csr)
		if err != nil {
			return nil, fmt.Errorf("servingCSR: %w", err)
		}
		cert, err := signer.SignServingCert(user, sans, csr.PublicKey, NodeCertLifetime)
		if err != nil {
			return nil, fmt.Errorf("servingCSR: %w", err)
		}
		resp.ServingCert = string(cert)
	}
	return resp, nil
}

// parseCSR decodes one PEM certificate request and checks that whoever
// made it holds the private key.
func parseCSR(data string) (*x509.CertificateRequest, error) {
	block, rest := pem.Decode([]byte(data))
	if block == nil || (block.Type != "CERTIFICATE REQUEST" && block.Type != "NEW CERTIFICATE REQUEST") {
		return nil, errors.New("not a PEM certificate request")
	}
	if len(strings.TrimSpace(string(rest))) > 0 {
		return nil, errors.New("more than one PEM block")
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, err
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("signature does not verify: %w", err)
	}
	return csr, nil
}

// servingSANs returns the names of a serving CSR: IP addresses a node can
// have and DNS names without wildcards. Other kinds of names (URIs, email
// addresses) are refused, not dropped, so the agent learns of them.
func servingSANs(csr *x509.CertificateRequest) ([]string, error) {
	if len(csr.URIs) > 0 || len(csr.EmailAddresses) > 0 {
		return nil, errors.New("only IP addresses and DNS names may be subject alternative names")
	}
	var sans []string
	for _, ip := range csr.IPAddresses {
		if ip.IsUnspecified() || ip.IsMulticast() {
			return nil, fmt.Errorf("IP address %s cannot be a node's", ip)
		}
		sans = append(sans, ip.String())
	}
	for _, name := range csr.DNSNames {
		if msgs := validation.IsDNS1123Subdomain(name); len(msgs) > 0 {
			return nil, fmt.Errorf("DNS name %q: %s", name, strings.Join(msgs, "; "))
		}
		sans = append(sans, name)
	}
	if len(sans) == 0 {
		return nil, errors.New("no IP addresses or DNS names")
	}
	return sans, nil
}
