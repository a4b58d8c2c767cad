// Package join lets a node agent that knows only the server's URL and the
// cluster's join token obtain the cluster CA safely: the server signs the
// CA it sends with an HMAC keyed by the token over a nonce the agent
// chose, so a man in the middle (who lacks the token) cannot substitute
// its own CA. The agent then talks TLS verified by that CA and trades the
// token for its node credentials: a client certificate for
// system:node:<name> and the kubelet's serving certificate, for keys that
// never leave the node.
package join

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"k8s.io/client-go/rest"
)

// CAPath is where the server hands out its CA, to anyone; the signature
// header is what makes the answer trustworthy.
const CAPath = "/tug/v1/cacerts"

// signatureHeader carries hex(HMAC-SHA256(token, nonce || CA PEM)).
const signatureHeader = "Tug-Ca-Signature"

// maxCASize bounds what the agent reads from an unverified peer.
const maxCASize = 1 << 20

// Sign returns the signature of caPEM for nonce under token.
func Sign(token string, nonce, caPEM []byte) string {
	mac := hmac.New(sha256.New, []byte(token))
	mac.Write(nonce)
	mac.Write(caPEM)
	return hex.EncodeToString(mac.Sum(nil))
}

// Handler serves CAPath: the CA PEM, signed for the nonce in the query.
func Handler(token string, caPEM []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nonce, err := hex.DecodeString(r.URL.Query().Get("nonce"))
		if err != nil || len(nonce) < 16 || len(nonce) > 64 {
			http.Error(w, "nonce must be 16 to 64 bytes in hex", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/x-pem-file")
		w.Header().Set(signatureHeader, Sign(token, nonce, caPEM))
		_, _ = w.Write(caPEM)
	})
}

// FetchCA asks the server at serverURL for its CA and returns it only if
// the server proved it knows token.
func FetchCA(ctx context.Context, serverURL, token string) ([]byte, error) {
	nonce := make([]byte, 32)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	u, err := url.Parse(serverURL)
	if err != nil {
		return nil, fmt.Errorf("server URL: %w", err)
	}
	u.Path = CAPath
	u.RawQuery = url.Values{"nonce": {hex.EncodeToString(nonce)}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	// The peer is not trusted yet: its answer is checked by signature.
	transport := &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}, //nolint:gosec // verified by HMAC below
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{Timeout: 30 * time.Second, Transport: transport}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch cluster CA: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	caPEM, err := io.ReadAll(io.LimitReader(resp.Body, maxCASize))
	if err != nil {
		return nil, fmt.Errorf("fetch cluster CA: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch cluster CA: %s", resp.Status)
	}
	want := Sign(token, nonce, caPEM)
	if !hmac.Equal([]byte(want), []byte(resp.Header.Get(signatureHeader))) {
		return nil, errors.New("fetch cluster CA: the server does not know this join token (wrong token, or not the tug server you meant)")
	}
	if !x509.NewCertPool().AppendCertsFromPEM(caPEM) {
		return nil, errors.New("fetch cluster CA: the answer holds no certificate")
	}
	return caPEM, nil
}

// Config returns a client configuration for the server at serverURL that
// verifies it with the CA fetched by FetchCA and authenticates with token.
func Config(ctx context.Context, serverURL, token string) (*rest.Config, error) {
	caPEM, err := FetchCA(ctx, serverURL, token)
	if err != nil {
		return nil, err
	}
	return &rest.Config{Host: serverURL, BearerToken: token, TLSClientConfig: rest.TLSClientConfig{CAData: caPEM}}, nil
}
