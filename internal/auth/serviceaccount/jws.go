// Package serviceaccount issues and verifies service-account tokens: JWTs
// signed by the cluster's service-account key, carrying the claims
// Kubernetes clients and workloads expect (issuer, subject, audiences,
// expiry and the kubernetes.io private claim naming the service account
// and the object the token is bound to).
package serviceaccount

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"strings"
)

// b64 is the unpadded base64url of JWS (RFC 7515).
var b64 = base64.RawURLEncoding

// header is the protected header of a compact JWS.
type header struct {
	Algorithm string `json:"alg"`
	KeyID     string `json:"kid,omitempty"`
}

// algorithm is a JWS signature algorithm for one kind of key.
type algorithm struct {
	name string
	hash crypto.Hash
	// size is the length of each of r and s in an ECDSA signature; 0 for
	// RSA.
	size int
}

// algorithmFor picks the algorithm for a key the way kube-apiserver does:
// RS256 for RSA, ES256/384/512 for the NIST curves.
func algorithmFor(pub crypto.PublicKey) (algorithm, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return algorithm{name: "RS256", hash: crypto.SHA256}, nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return algorithm{name: "ES256", hash: crypto.SHA256, size: 32}, nil
		case elliptic.P384():
			return algorithm{name: "ES384", hash: crypto.SHA384, size: 48}, nil
		case elliptic.P521():
			return algorithm{name: "ES512", hash: crypto.SHA512, size: 66}, nil
		}
		return algorithm{}, fmt.Errorf("unsupported elliptic curve %s", k.Params().Name)
	}
	return algorithm{}, fmt.Errorf("unsupported key type %T: need RSA or ECDSA", pub)
}

func (a algorithm) digest(data []byte) []byte {
	var h hash.Hash
	switch a.hash {
	case crypto.SHA384:
		h = sha512.New384()
	case crypto.SHA512:
		h = sha512.New()
	default:
		h = sha256.New()
	}
	h.Write(data)
	return h.Sum(nil)
}

// KeyID names a public key in the "kid" header as kube-apiserver names it:
// the unpadded base64url SHA-256 of its PKIX DER encoding, so that
// verifiers holding several keys pick the right one.
func KeyID(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(der)
	return b64.EncodeToString(sum[:]), nil
}

// sign returns the compact JWS of payload signed by key.
func sign(key crypto.Signer, keyID string, payload []byte) (string, error) {
	alg, err := algorithmFor(key.Public())
	if err != nil {
		return "", err
	}
	head, err := json.Marshal(header{Algorithm: alg.name, KeyID: keyID})
	if err != nil {
		return "", err
	}
	signingInput := b64.EncodeToString(head) + "." + b64.EncodeToString(payload)
	sig, err := key.Sign(rand.Reader, alg.digest([]byte(signingInput)), alg.hash)
	if err != nil {
		return "", err
	}
	if alg.size > 0 {
		// crypto.Signer returns ASN.1; JWS wants r and s as fixed-size
		// big-endian integers, one after the other (RFC 7518 3.4).
		var rs struct{ R, S *big.Int }
		if _, err := asn1.Unmarshal(sig, &rs); err != nil {
			return "", fmt.Errorf("decode ECDSA signature: %w", err)
		}
		sig = make([]byte, 2*alg.size)
		rs.R.FillBytes(sig[:alg.size])
		rs.S.FillBytes(sig[alg.size:])
	}
	return signingInput + "." + b64.EncodeToString(sig), nil
}

// jws is a compact JWS split into its parts, not yet verified.
type jws struct {
	header       header
	payload      []byte
	signingInput string
	signature    []byte
}

// errNotJWS marks a token that is not a compact JWS at all, so surely not
// ours: another authenticator may know it.
var errNotJWS = errors.New("not a compact JWS")

// parse splits and decodes a compact JWS without verifying it.
func parse(token string) (*jws, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errNotJWS
	}
	head, err := b64.DecodeString(parts[0])
	if err != nil {
		return nil, errNotJWS
	}
	payload, err := b64.DecodeString(parts[1])
	if err != nil {
		return nil, errNotJWS
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil {
		return nil, errNotJWS
	}
	j := &jws{payload: payload, signingInput: parts[0] + "." + parts[1], signature: sig}
	if err := json.Unmarshal(head, &j.header); err != nil {
		return nil, errNotJWS
	}
	return j, nil
}

// verify checks the signature with pub. The header's algorithm must be the
// one pub signs with: trusting it otherwise would let a token choose "none"
// or an HMAC keyed by our public key.
func (j *jws) verify(pub crypto.PublicKey) error {
	alg, err := algorithmFor(pub)
	if err != nil {
		return err
	}
	if j.header.Algorithm != alg.name {
		return fmt.Errorf("token is signed with %q, the key with %s", j.header.Algorithm, alg.name)
	}
	digest := alg.digest([]byte(j.signingInput))
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(k, alg.hash, digest, j.signature)
	case *ecdsa.PublicKey:
		if len(j.signature) != 2*alg.size {
			return errors.New("ECDSA signature has the wrong length")
		}
		r := new(big.Int).SetBytes(j.signature[:alg.size])
		s := new(big.Int).SetBytes(j.signature[alg.size:])
		if !ecdsa.Verify(k, digest, r, s) {
			return errors.New("invalid ECDSA signature")
		}
		return nil
	}
	return fmt.Errorf("unsupported key type %T", pub)
}
