package certificates

import (
	"testing"

	certificatesv1 "k8s.io/api/certificates/v1"
)

func TestSignerNameIsSelectable(t *testing.T) {
	s := Strategies()[certificatesv1.SchemeGroupVersion.WithResource("certificatesigningrequests")]
	csr := &certificatesv1.CertificateSigningRequest{Spec: certificatesv1.CertificateSigningRequestSpec{SignerName: "example.com/s"}}
	_, fs, err := s.GetAttrs(csr)
	if err != nil || fs["spec.signerName"] != "example.com/s" {
		t.Fatalf("fields %v, %v", fs, err)
	}
	// An empty object still lists the field, so selectors on it are accepted.
	if _, fs, _ := s.GetAttrs(&certificatesv1.CertificateSigningRequest{}); !fs.Has("spec.signerName") {
		t.Fatalf("empty object fields %v lack spec.signerName", fs)
	}
}
