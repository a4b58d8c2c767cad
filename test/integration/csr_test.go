package integration

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"slices"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tugcluster/tug/internal/testutil"
)

// TestCSRApproval drives a CertificateSigningRequest through /approval and
// /status as an approver and a signer do: approval conditions only through
// /approval, the certificate only through /status, the spec never.
func TestCSRApproval(t *testing.T) {
	s := testutil.StartServer(t)
	ctx := context.Background()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "alice"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	csrs := s.Client.CertificatesV1().CertificateSigningRequests()
	csr, err := csrs.Create(ctx, &certificatesv1.CertificateSigningRequest{
		ObjectMeta: metav1.ObjectMeta{Name: "alice"},
		Spec: certificatesv1.CertificateSigningRequestSpec{
			Request:    pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}),
			SignerName: "example.com/signer",
			Usages:     []certificatesv1.KeyUsage{certificatesv1.UsageClientAuth},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}

	// A status write cannot approve.
	forged := csr.DeepCopy()
	forged.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{{Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue}}
	got, err := csrs.UpdateStatus(ctx, forged, metav1.UpdateOptions{})
	if err != nil || len(got.Status.Conditions) != 0 {
		t.Fatalf("status write approving: %+v %v", got.Status, err)
	}

	got, err = csrs.Patch(ctx, "alice", types.MergePatchType,
		[]byte(`{"metadata":{"annotations":{"reviewed":"yes"}},"status":{"conditions":[{"type":"Approved","status":"True","reason":"Test"}]}}`),
		metav1.PatchOptions{}, "approval")
	if err != nil || len(got.Status.Conditions) != 1 || got.Status.Conditions[0].Type != certificatesv1.CertificateApproved ||
		got.Status.Conditions[0].LastUpdateTime.IsZero() || got.Annotations["reviewed"] != "yes" {
		t.Fatalf("approval patch: %+v %v", got, err)
	}
	denied := got.DeepCopy()
	denied.Status.Conditions = append(denied.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{Type: certificatesv1.CertificateDenied, Status: corev1.ConditionTrue})
	if _, err := csrs.UpdateApproval(ctx, "alice", denied, metav1.UpdateOptions{}); !apierrors.IsInvalid(err) {
		t.Errorf("approved and denied: err %v, want 422", err)
	}

	issued := got.DeepCopy()
	issued.Status.Certificate = []byte("-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n")
	issued.Spec.SignerName = "example.com/other"
	got, err = csrs.UpdateStatus(ctx, issued, metav1.UpdateOptions{})
	if err != nil || len(got.Status.Certificate) == 0 || got.Spec.SignerName != "example.com/signer" || len(got.Status.Conditions) != 1 {
		t.Fatalf("issuing: %+v %v", got, err)
	}
	respec := got.DeepCopy()
	respec.Spec.SignerName = "example.com/other"
	if _, err := csrs.Update(ctx, respec, metav1.UpdateOptions{}); !apierrors.IsInvalid(err) {
		t.Errorf("spec change: err %v, want 422", err)
	}
}

// TestCSRSigning follows the Kubernetes book's "a user from a CSR": a
// kube-apiserver-client request, approved, is signed by the cluster CA,
// and the certificate authenticates as its common name and organizations.
// A kubelet client request for another name fails.
func TestCSRSigning(t *testing.T) {
	s := testutil.StartServer(t)
	ctx := context.Background()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	request := func(cn string, orgs ...string) []byte {
		t.Helper()
		der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn, Organization: orgs}}, key)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
	}
	csrs := s.Client.CertificatesV1().CertificateSigningRequests()
	hour := int32(3600)
	submit := func(name, signer string, req []byte) {
		t.Helper()
		csr, err := csrs.Create(ctx, &certificatesv1.CertificateSigningRequest{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: certificatesv1.CertificateSigningRequestSpec{Request: req, SignerName: signer, ExpirationSeconds: &hour,
				Usages: []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		csr.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{{Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue, Reason: "Test"}}
		if _, err := csrs.UpdateApproval(ctx, name, csr, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor := func(name string, done func(*certificatesv1.CertificateSigningRequest) bool) *certificatesv1.CertificateSigningRequest {
		t.Helper()
		var got *certificatesv1.CertificateSigningRequest
		err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
			var err error
			got, err = csrs.Get(ctx, name, metav1.GetOptions{})
			return err == nil && done(got), nil
		})
		if err != nil {
			t.Fatalf("%s: %v; last %+v", name, err, got.Status)
		}
		return got
	}

	submit("jane", certificatesv1.KubeAPIServerClientSignerName, request("jane", "developers"))
	signed := waitFor("jane", func(c *certificatesv1.CertificateSigningRequest) bool { return len(c.Status.Certificate) > 0 })
	block, _ := pem.Decode(signed.Status.Certificate)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if d := cert.NotAfter.Sub(cert.NotBefore); d > time.Hour+5*time.Minute {
		t.Errorf("certificate valid for %v, asked for an hour", d)
	}
	cfg := rest.AnonymousClientConfig(s.Config)
	cfg.CertData, cfg.KeyData = signed.Status.Certificate, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	review, err := kubernetes.NewForConfigOrDie(cfg).AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil || review.Status.UserInfo.Username != "jane" || !slices.Contains(review.Status.UserInfo.Groups, "developers") {
		t.Fatalf("the signed certificate authenticates as %+v (%v), want jane in developers", review, err)
	}

	submit("not-a-node", certificatesv1.KubeAPIServerClientKubeletSignerName, request("jane", "system:nodes"))
	failed := waitFor("not-a-node", func(c *certificatesv1.CertificateSigningRequest) bool { return len(c.Status.Conditions) > 1 })
	if c := failed.Status.Conditions[1]; c.Type != certificatesv1.CertificateFailed || c.Reason != "SignerValidationFailure" || len(failed.Status.Certificate) > 0 {
		t.Errorf("kubelet request for jane: %+v", failed.Status)
	}
}
