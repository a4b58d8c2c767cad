package integration

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"testing"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

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
