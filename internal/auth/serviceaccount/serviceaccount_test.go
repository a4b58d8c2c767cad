package serviceaccount

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// objects is an in-memory Getter.
type objects struct {
	sas     map[string]*corev1.ServiceAccount
	pods    map[string]*corev1.Pod
	secrets map[string]*corev1.Secret
	nodes   map[string]*corev1.Node
}

func get[T any](m map[string]*T, resource, key string) (*T, error) {
	if o, ok := m[key]; ok {
		return o, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: resource}, key)
}

func (o *objects) GetServiceAccount(_ context.Context, ns, name string) (*corev1.ServiceAccount, error) {
	return get(o.sas, "serviceaccounts", ns+"/"+name)
}
func (o *objects) GetPod(_ context.Context, ns, name string) (*corev1.Pod, error) {
	return get(o.pods, "pods", ns+"/"+name)
}
func (o *objects) GetSecret(_ context.Context, ns, name string) (*corev1.Secret, error) {
	return get(o.secrets, "secrets", ns+"/"+name)
}
func (o *objects) GetNode(_ context.Context, name string) (*corev1.Node, error) {
	return get(o.nodes, "nodes", name)
}

func meta(ns, name, uid string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(uid)}
}

func newObjects() *objects {
	return &objects{
		sas:     map[string]*corev1.ServiceAccount{"ns1/sa1": {ObjectMeta: meta("ns1", "sa1", "sa-uid")}},
		pods:    map[string]*corev1.Pod{"ns1/p1": {ObjectMeta: meta("ns1", "p1", "pod-uid")}},
		secrets: map[string]*corev1.Secret{"ns1/s1": {ObjectMeta: meta("ns1", "s1", "secret-uid")}},
		nodes:   map[string]*corev1.Node{"n1": {ObjectMeta: meta("", "n1", "node-uid")}},
	}
}

func genKey(t *testing.T, gen func() (crypto.Signer, error)) crypto.Signer {
	t.Helper()
	k, err := gen()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func ecKey(t *testing.T, c elliptic.Curve) crypto.Signer {
	return genKey(t, func() (crypto.Signer, error) { return ecdsa.GenerateKey(c, rand.Reader) })
}

func rsaKey(t *testing.T) crypto.Signer {
	return genKey(t, func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 2048) })
}

func decodeClaims(t *testing.T, token string) (header, Claims) {
	t.Helper()
	j, err := parse(token)
	if err != nil {
		t.Fatalf("parse %q: %v", token, err)
	}
	var c Claims
	if err := json.Unmarshal(j.payload, &c); err != nil {
		t.Fatal(err)
	}
	return j.header, c
}

// TestIssueAndAuthenticate signs tokens with each key type and checks the
// claims, then the user the authenticator derives from them.
func TestIssueAndAuthenticate(t *testing.T) {
	sa := &corev1.ServiceAccount{ObjectMeta: meta("ns1", "sa1", "sa-uid")}
	podRef := &Ref{Name: "p1", UID: "pod-uid"}
	nodeRef := &Ref{Name: "n1", UID: "node-uid"}
	tests := []struct {
		name      string
		key       crypto.Signer
		alg       string
		bound     Binding
		audiences []string
		expSecs   int64
		wantAud   []string
		wantExp   int64
		wantWarn  int64
		wantExtra map[string][]string
	}{
		{name: "ES256 unbound", key: ecKey(t, elliptic.P256()), alg: "ES256", expSecs: 3600,
			wantAud: []string{DefaultIssuer}, wantExp: 3600, wantExtra: map[string][]string{}},
		{name: "ES384", key: ecKey(t, elliptic.P384()), alg: "ES384", expSecs: 600, wantAud: []string{DefaultIssuer}, wantExp: 600, wantExtra: map[string][]string{}},
		{name: "ES512", key: ecKey(t, elliptic.P521()), alg: "ES512", expSecs: 600, wantAud: []string{DefaultIssuer}, wantExp: 600, wantExtra: map[string][]string{}},
		{name: "RS256 pod-bound with node", key: rsaKey(t), alg: "RS256", bound: Binding{Pod: podRef, Node: nodeRef},
			audiences: []string{"x", DefaultIssuer}, expSecs: 3600, wantAud: []string{"x", DefaultIssuer}, wantExp: 3600,
			wantExtra: map[string][]string{ExtraPodName: {"p1"}, ExtraPodUID: {"pod-uid"}, ExtraNodeName: {"n1"}, ExtraNodeUID: {"node-uid"}}},
		{name: "kubelet's 3607s pod token is extended", key: ecKey(t, elliptic.P256()), alg: "ES256", bound: Binding{Pod: podRef},
			expSecs: WarnOnlyExpirationSeconds, wantAud: []string{DefaultIssuer}, wantExp: ExtendedExpirationSeconds, wantWarn: WarnOnlyExpirationSeconds,
			wantExtra: map[string][]string{ExtraPodName: {"p1"}, ExtraPodUID: {"pod-uid"}}},
		{name: "not extended for other audiences", key: ecKey(t, elliptic.P256()), alg: "ES256", bound: Binding{Pod: podRef},
			audiences: []string{DefaultIssuer, "vault"}, expSecs: WarnOnlyExpirationSeconds, wantAud: []string{DefaultIssuer, "vault"},
			wantExp: WarnOnlyExpirationSeconds, wantExtra: map[string][]string{ExtraPodName: {"p1"}, ExtraPodUID: {"pod-uid"}}},
		{name: "not extended unbound", key: ecKey(t, elliptic.P256()), alg: "ES256", expSecs: WarnOnlyExpirationSeconds,
			wantAud: []string{DefaultIssuer}, wantExp: WarnOnlyExpirationSeconds, wantExtra: map[string][]string{}},
		{name: "secret-bound", key: ecKey(t, elliptic.P256()), alg: "ES256", bound: Binding{Secret: &Ref{Name: "s1", UID: "secret-uid"}},
			expSecs: 3600, wantAud: []string{DefaultIssuer}, wantExp: 3600, wantExtra: map[string][]string{}},
		{name: "node-bound", key: ecKey(t, elliptic.P256()), alg: "ES256", bound: Binding{Node: nodeRef},
			expSecs: 3600, wantAud: []string{DefaultIssuer}, wantExp: 3600,
			wantExtra: map[string][]string{ExtraNodeName: {"n1"}, ExtraNodeUID: {"node-uid"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			issuer, err := NewIssuer(tt.key, "")
			if err != nil {
				t.Fatal(err)
			}
			token, claims, err := issuer.Issue(sa, tt.bound, tt.audiences, tt.expSecs, t0)
			if err != nil {
				t.Fatal(err)
			}
			head, got := decodeClaims(t, token)
			kid, _ := KeyID(tt.key.Public())
			if head.Algorithm != tt.alg || head.KeyID != kid {
				t.Errorf("header %+v, want alg %s kid %s", head, tt.alg, kid)
			}
			if diff := cmp.Diff(*claims, got); diff != "" {
				t.Errorf("returned claims differ from the token's (-returned +token):\n%s", diff)
			}
			want := Claims{
				Audience: tt.wantAud, Expiry: t0.Unix() + tt.wantExp, IssuedAt: t0.Unix(), NotBefore: t0.Unix(),
				Issuer: DefaultIssuer, ID: got.ID, Subject: "system:serviceaccount:ns1:sa1",
				Kubernetes: &PrivateClaims{Namespace: "ns1", ServiceAccount: Ref{Name: "sa1", UID: "sa-uid"},
					Pod: tt.bound.Pod, Secret: tt.bound.Secret, Node: tt.bound.Node},
			}
			if tt.wantWarn != 0 {
				want.Kubernetes.WarnAfter = t0.Unix() + tt.wantWarn
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("claims (-want +got):\n%s", diff)
			}
			if len(got.ID) != 36 {
				t.Errorf("jti %q is not a UUID", got.ID)
			}

			auth, err := NewAuthenticator(AuthenticatorOptions{Keys: []crypto.PublicKey{tt.key.Public()}, Getter: newObjects(),
				Clock: clocktesting.NewFakePassiveClock(t0.Add(time.Duration(tt.expSecs-1) * time.Second))})
			if err != nil {
				t.Fatal(err)
			}
			u, ok, err := auth.Authenticate(context.Background(), token)
			if err != nil || !ok {
				t.Fatalf("Authenticate: ok %v, err %v", ok, err)
			}
			tt.wantExtra[ExtraCredentialID] = []string{"JTI=" + got.ID}
			wantUser := &User{Name: "system:serviceaccount:ns1:sa1", UID: "sa-uid",
				Groups: []string{"system:serviceaccounts", "system:serviceaccounts:ns1"}, Extra: tt.wantExtra}
			if diff := cmp.Diff(wantUser, u); diff != "" {
				t.Errorf("user (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAuthenticateRefuses covers the tokens that must not authenticate,
// and those that are not ours at all.
func TestAuthenticateRefuses(t *testing.T) {
	key := ecKey(t, elliptic.P256())
	issuer, err := NewIssuer(key, "")
	if err != nil {
		t.Fatal(err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: meta("ns1", "sa1", "sa-uid")}
	issue := func(bound Binding, aud ...string) string {
		token, _, err := issuer.Issue(sa, bound, aud, 3600, t0)
		if err != nil {
			t.Fatal(err)
		}
		return token
	}
	valid := issue(Binding{})
	parts := strings.Split(valid, ".")
	_, claims := decodeClaims(t, valid)
	reencode := func(mutate func(*Claims)) string {
		c := claims
		pc := *claims.Kubernetes
		c.Kubernetes = &pc
		mutate(&c)
		payload, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		return parts[0] + "." + b64.EncodeToString(payload) + "." + parts[2]
	}
	signedBy := func(k crypto.Signer, mutate func(*Claims)) string {
		c := claims
		mutate(&c)
		payload, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		token, err := sign(k, "", payload)
		if err != nil {
			t.Fatal(err)
		}
		return token
	}
	otherIssuer, err := NewIssuer(key, "https://other.example")
	if err != nil {
		t.Fatal(err)
	}
	foreign, _, err := otherIssuer.Issue(sa, Binding{}, nil, 3600, t0)
	if err != nil {
		t.Fatal(err)
	}
	// Another base64url character, so the signature still decodes (a
	// flipped bit could make an invalid character, which reads as a token
	// that is not ours) but no longer verifies.
	tamperedSig := []byte(parts[2])
	if tamperedSig[5] == 'A' {
		tamperedSig[5] = 'B'
	} else {
		tamperedSig[5] = 'A'
	}
	noneHeader := b64.EncodeToString([]byte(`{"alg":"none"}`))
	rsHeader := b64.EncodeToString([]byte(`{"alg":"RS256"}`))
	podBound := issue(Binding{Pod: &Ref{Name: "p1", UID: "pod-uid"}})
	secretBound := issue(Binding{Secret: &Ref{Name: "s1", UID: "secret-uid"}})
	nodeBound := issue(Binding{Node: &Ref{Name: "n1", UID: "node-uid"}})

	tests := []struct {
		name    string
		token   string
		now     time.Time
		change  func(*objects)
		notOurs bool
		wantErr string
	}{
		{name: "valid", token: valid},
		{name: "join token", token: "tug-0123456789abcdef", notOurs: true},
		{name: "three garbage parts", token: "a.b.c", notOurs: true},
		{name: "other issuer", token: foreign, notOurs: true},
		{name: "tampered payload", token: reencode(func(c *Claims) { c.Subject = "system:serviceaccount:ns1:admin" }), wantErr: "signature"},
		{name: "tampered signature", token: parts[0] + "." + parts[1] + "." + string(tamperedSig), wantErr: "signature"},
		{name: "truncated signature", token: parts[0] + "." + parts[1] + "." + parts[2][:20], wantErr: "signature"},
		{name: "alg none", token: noneHeader + "." + parts[1] + ".", wantErr: "signature"},
		{name: "alg switched", token: rsHeader + "." + parts[1] + "." + parts[2], wantErr: "signature"},
		{name: "wrong key", token: signedBy(ecKey(t, elliptic.P256()), func(*Claims) {}), wantErr: "signature"},
		{name: "expired", token: valid, now: t0.Add(time.Hour + leeway + time.Second), wantErr: "expired"},
		{name: "within leeway of expiry", token: valid, now: t0.Add(time.Hour + leeway - time.Second)},
		{name: "not yet valid", token: valid, now: t0.Add(-leeway - time.Second), wantErr: "not valid yet"},
		{name: "no expiry", token: signedBy(key, func(c *Claims) { c.Expiry = 0 }), wantErr: "no expiry"},
		{name: "wrong audience", token: issue(Binding{}, "vault"), wantErr: "audiences"},
		{name: "subject and claim disagree", token: signedBy(key, func(c *Claims) { c.Subject = "system:serviceaccount:ns1:other" }), wantErr: "do not name"},
		{name: "no private claim", token: signedBy(key, func(c *Claims) { c.Kubernetes = nil }), wantErr: "do not name"},
		{name: "service account deleted", token: valid, change: func(o *objects) { delete(o.sas, "ns1/sa1") }, wantErr: "invalidated"},
		{name: "service account recreated", token: valid, change: func(o *objects) { o.sas["ns1/sa1"].UID = "new" }, wantErr: "invalidated"},
		{name: "pod-bound", token: podBound},
		{name: "bound pod deleted", token: podBound, change: func(o *objects) { delete(o.pods, "ns1/p1") }, wantErr: "invalidated"},
		{name: "bound pod recreated", token: podBound, change: func(o *objects) { o.pods["ns1/p1"].UID = "new" }, wantErr: "invalidated"},
		{name: "bound pod terminating", token: podBound, change: func(o *objects) {
			o.pods["ns1/p1"].DeletionTimestamp = &metav1.Time{Time: t0.Add(-30 * time.Second)}
		}},
		{name: "bound pod terminated long ago", token: podBound, change: func(o *objects) {
			o.pods["ns1/p1"].DeletionTimestamp = &metav1.Time{Time: t0.Add(-61 * time.Second)}
		}, wantErr: "invalidated"},
		{name: "secret-bound", token: secretBound},
		{name: "bound secret deleted", token: secretBound, change: func(o *objects) { delete(o.secrets, "ns1/s1") }, wantErr: "invalidated"},
		{name: "node-bound", token: nodeBound},
		{name: "bound node recreated", token: nodeBound, change: func(o *objects) { o.nodes["n1"].UID = "new" }, wantErr: "invalidated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs := newObjects()
			if tt.change != nil {
				tt.change(objs)
			}
			now := tt.now
			if now.IsZero() {
				now = t0
			}
			auth, err := NewAuthenticator(AuthenticatorOptions{Keys: []crypto.PublicKey{key.Public()}, Getter: objs, Clock: clocktesting.NewFakePassiveClock(now)})
			if err != nil {
				t.Fatal(err)
			}
			u, ok, err := auth.Authenticate(context.Background(), tt.token)
			switch {
			case tt.notOurs:
				if ok || err != nil {
					t.Errorf("got ok %v err %v, want a token that is not ours (false, nil)", ok, err)
				}
			case tt.wantErr != "":
				if ok || err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("got ok %v err %v, want an error containing %q", ok, err, tt.wantErr)
				}
			default:
				if !ok || err != nil || u.Name != "system:serviceaccount:ns1:sa1" {
					t.Errorf("got %+v ok %v err %v, want sa1", u, ok, err)
				}
			}
		})
	}
}

// TestUpstreamToken checks that tug names keys as kube-apiserver does and
// verifies a token kube-apiserver issued (see testdata/README.md).
func TestUpstreamToken(t *testing.T) {
	pubPEM, err := os.ReadFile("testdata/upstream-sa.pub")
	if err != nil {
		t.Fatal(err)
	}
	tokenData, err := os.ReadFile("testdata/upstream-pod-token")
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(pubPEM)
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	kid, err := KeyID(pub)
	if err != nil || kid != "iuvObumQQ00bhreer1aXVacoreoU15nPkioAKnDos2M" {
		t.Errorf("KeyID = %q, %v; want kube-apiserver's", kid, err)
	}
	token := strings.TrimSpace(string(tokenData))
	_, claims := decodeClaims(t, token)
	objs := &objects{
		sas:  map[string]*corev1.ServiceAccount{"default/default": {ObjectMeta: meta("default", "default", "7c5ba594-83cd-486c-afb5-5f5511329113")}},
		pods: map[string]*corev1.Pod{"default/p1": {ObjectMeta: meta("default", "p1", "392f1bb6-cfa1-44fb-9363-2005613a55da")}},
	}
	auth, err := NewAuthenticator(AuthenticatorOptions{Keys: []crypto.PublicKey{pub}, Getter: objs,
		Clock: clocktesting.NewFakePassiveClock(time.Unix(claims.IssuedAt+60, 0))})
	if err != nil {
		t.Fatal(err)
	}
	u, ok, err := auth.Authenticate(context.Background(), token)
	if err != nil || !ok {
		t.Fatalf("Authenticate(upstream token): ok %v err %v", ok, err)
	}
	want := &User{Name: "system:serviceaccount:default:default", UID: "7c5ba594-83cd-486c-afb5-5f5511329113",
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:default"},
		Extra: map[string][]string{
			ExtraPodName: {"p1"}, ExtraPodUID: {"392f1bb6-cfa1-44fb-9363-2005613a55da"}, ExtraNodeName: {"nonode"},
			ExtraCredentialID: {"JTI=4c299f8f-5bda-4a5c-99fc-198f6772bd2c"},
		}}
	if diff := cmp.Diff(want, u); diff != "" {
		t.Errorf("user (-want +got):\n%s", diff)
	}
	if claims.Kubernetes.WarnAfter != claims.IssuedAt+WarnOnlyExpirationSeconds || claims.Expiry != claims.IssuedAt+ExtendedExpirationSeconds {
		t.Errorf("upstream extended differently than tug does: %+v", claims)
	}
}

func TestNewRefusesBadKeys(t *testing.T) {
	if _, err := NewIssuer(nil, ""); err == nil {
		t.Error("NewIssuer(nil) succeeded")
	}
	if _, err := NewAuthenticator(AuthenticatorOptions{Getter: newObjects()}); err == nil {
		t.Error("NewAuthenticator without keys succeeded")
	}
	if _, err := NewAuthenticator(AuthenticatorOptions{Keys: []crypto.PublicKey{ecKey(t, elliptic.P256()).Public()}}); err == nil {
		t.Error("NewAuthenticator without a Getter succeeded")
	}
	if _, err := NewAuthenticator(AuthenticatorOptions{Keys: []crypto.PublicKey{"key"}, Getter: newObjects()}); err == nil {
		t.Error("NewAuthenticator with a string key succeeded")
	}
}

func TestAudienceUnmarshal(t *testing.T) {
	for in, want := range map[string]Audience{`"a"`: {"a"}, `["a","b"]`: {"a", "b"}} {
		var a Audience
		if err := json.Unmarshal([]byte(in), &a); err != nil || !cmp.Equal(a, want) {
			t.Errorf("%s: got %v, %v; want %v", in, a, err, want)
		}
	}
	var a Audience
	if err := json.Unmarshal([]byte(`1`), &a); err == nil {
		t.Error("a number is an audience")
	}
}

func TestNotFoundIsWrapped(t *testing.T) {
	key := ecKey(t, elliptic.P256())
	issuer, _ := NewIssuer(key, "")
	token, _, err := issuer.Issue(&corev1.ServiceAccount{ObjectMeta: meta("ns1", "gone", "u")}, Binding{}, nil, 3600, t0)
	if err != nil {
		t.Fatal(err)
	}
	auth, _ := NewAuthenticator(AuthenticatorOptions{Keys: []crypto.PublicKey{key.Public()}, Getter: newObjects(), Clock: clocktesting.NewFakePassiveClock(t0)})
	_, _, err = auth.Authenticate(context.Background(), token)
	if !errors.Is(err, errInvalidated) || !apierrors.IsNotFound(err) {
		t.Errorf("err = %v, want invalidated wrapping NotFound", err)
	}
}
