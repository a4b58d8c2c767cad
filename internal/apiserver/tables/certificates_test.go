package tables

import (
	"testing"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
)

func TestCertificateSigningRequestCells(t *testing.T) {
	csr := func(name string, expiration *int32, cert []byte, conds ...certificatesv1.CertificateSigningRequestCondition) *certificatesv1.CertificateSigningRequest {
		return &certificatesv1.CertificateSigningRequest{
			ObjectMeta: om(name),
			Spec:       certificatesv1.CertificateSigningRequestSpec{SignerName: "kubernetes.io/kube-apiserver-client", Username: "alice", ExpirationSeconds: expiration},
			Status:     certificatesv1.CertificateSigningRequestStatus{Conditions: conds, Certificate: cert},
		}
	}
	cond := func(t certificatesv1.RequestConditionType, s corev1.ConditionStatus) certificatesv1.CertificateSigningRequestCondition {
		return certificatesv1.CertificateSigningRequestCondition{Type: t, Status: s}
	}
	const signer = "kubernetes.io/kube-apiserver-client"
	runCellCases(t, []cellCase{
		{"pending", csr("p", nil, nil), []any{"p", "5m", signer, "alice", "<none>", "Pending"}},
		{"approved and issued", csr("a", ptr[int32](86400), []byte("PEM"), cond(certificatesv1.CertificateApproved, corev1.ConditionTrue)),
			[]any{"a", "5m", signer, "alice", "24h", "Approved,Issued"}},
		{"denied wins", csr("d", ptr[int32](600), nil, cond(certificatesv1.CertificateApproved, corev1.ConditionTrue), cond(certificatesv1.CertificateDenied, corev1.ConditionTrue)),
			[]any{"d", "5m", signer, "alice", "10m", "Denied"}},
		{"failed", csr("f", nil, nil, cond(certificatesv1.CertificateApproved, corev1.ConditionTrue), cond(certificatesv1.CertificateFailed, corev1.ConditionTrue)),
			[]any{"f", "5m", signer, "alice", "<none>", "Approved,Failed"}},
		{"false condition ignored", csr("n", nil, nil, cond(certificatesv1.CertificateApproved, corev1.ConditionFalse)),
			[]any{"n", "5m", signer, "alice", "<none>", "Pending"}},
	})
}

func TestClusterTrustBundleCells(t *testing.T) {
	runCellCases(t, []cellCase{
		{"signer", &certificatesv1.ClusterTrustBundle{ObjectMeta: om("example.com:signer:abc"), Spec: certificatesv1.ClusterTrustBundleSpec{SignerName: "example.com/signer"}},
			[]any{"example.com:signer:abc", "example.com/signer"}},
		{"no signer", &certificatesv1.ClusterTrustBundle{ObjectMeta: om("plain")}, []any{"plain", "<none>"}},
	})
}
