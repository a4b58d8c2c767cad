package tables

import (
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
)

// certificatesPrinters are the printers of certificates.k8s.io.
func certificatesPrinters() []*printer {
	gv := certificatesv1.SchemeGroupVersion
	return []*printer{
		typed(gv.WithKind("CertificateSigningRequest"), csrColumns, csrCells),
		typed(gv.WithKind("ClusterTrustBundle"), clusterTrustBundleColumns, clusterTrustBundleCells),
	}
}

var csrSpecDoc = certificatesv1.CertificateSigningRequestSpec{}.SwaggerDoc()

var csrColumns = columns(
	nameColumn(),
	ageColumn(),
	strCol("SignerName", csrSpecDoc["signerName"]),
	strCol("Requestor", "Name of the user who requested the certificate"),
	strCol("RequestedDuration", csrSpecDoc["expirationSeconds"]),
	strCol("Condition", "The condition of the certificate signing request"),
)

func csrCells(csr *certificatesv1.CertificateSigningRequest, now time.Time) []any {
	duration := "<none>"
	if s := csr.Spec.ExpirationSeconds; s != nil {
		duration = HumanDuration(time.Duration(*s) * time.Second)
	}
	return []any{
		csr.Name,
		ageSince(csr.CreationTimestamp, now),
		csr.Spec.SignerName,
		csr.Spec.Username,
		duration,
		csrCondition(csr),
	}
}

// csrCondition is Denied, Approved or Pending, then ",Failed" if signing
// failed and ",Issued" once the certificate is there. Conditions with
// status False do not count.
func csrCondition(csr *certificatesv1.CertificateSigningRequest) string {
	var approved, denied, failed bool
	for _, c := range csr.Status.Conditions {
		if c.Status == "False" {
			continue
		}
		switch c.Type {
		case certificatesv1.CertificateApproved:
			approved = true
		case certificatesv1.CertificateDenied:
			denied = true
		case certificatesv1.CertificateFailed:
			failed = true
		}
	}
	status := "Pending"
	switch {
	case denied:
		status = "Denied"
	case approved:
		status = "Approved"
	}
	if failed {
		status += ",Failed"
	}
	if len(csr.Status.Certificate) > 0 {
		status += ",Issued"
	}
	return status
}

var clusterTrustBundleColumns = columns(
	nameColumn(),
	strCol("SignerName", certificatesv1.ClusterTrustBundleSpec{}.SwaggerDoc()["signerName"]),
)

func clusterTrustBundleCells(b *certificatesv1.ClusterTrustBundle, _ time.Time) []any {
	return []any{b.Name, orNone(b.Spec.SignerName)}
}
