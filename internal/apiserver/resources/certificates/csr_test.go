package certificates

import (
	"context"
	"strings"
	"testing"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var csrGVR = certificatesv1.SchemeGroupVersion.WithResource("certificatesigningrequests")

func condition(typ certificatesv1.RequestConditionType, status corev1.ConditionStatus) certificatesv1.CertificateSigningRequestCondition {
	return certificatesv1.CertificateSigningRequestCondition{Type: typ, Status: status, Reason: "test"}
}

func testCSR(conditions ...certificatesv1.CertificateSigningRequestCondition) *certificatesv1.CertificateSigningRequest {
	return &certificatesv1.CertificateSigningRequest{
		ObjectMeta: metav1.ObjectMeta{Name: "csr"},
		Spec:       certificatesv1.CertificateSigningRequestSpec{SignerName: "example.com/signer", Request: []byte("request")},
		Status:     certificatesv1.CertificateSigningRequestStatus{Conditions: conditions},
	}
}

func types(cs []certificatesv1.CertificateSigningRequestCondition) string {
	var out []string
	for _, c := range cs {
		out = append(out, string(c.Type)+"="+c.Reason)
	}
	return strings.Join(out, ",")
}

// TestCSRParts checks what /approval and /status take from a write and
// what they keep from the stored request.
func TestCSRParts(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	s := Strategies()[csrGVR].(csrStrategy)
	s.now = func() time.Time { return now }

	stored := testCSR(condition("Pending", corev1.ConditionTrue))
	stored.Status.Conditions[0].LastTransitionTime = metav1.NewTime(now.Add(-time.Hour))
	stored.Status.Certificate = []byte("stored certificate")

	// /approval: conditions and metadata from the write, spec and
	// certificate kept.
	write := testCSR(condition("Pending", corev1.ConditionTrue), condition(certificatesv1.CertificateApproved, corev1.ConditionTrue))
	write.Spec.SignerName = "example.com/other"
	write.Status.Certificate = []byte("forged")
	write.Annotations = map[string]string{"approved-by": "test"}
	if !s.WritesPart("approval") || !s.WritesPart("status") {
		t.Fatal("approval and status are not written as parts")
	}
	merged, err := s.MergePart("approval", write, stored)
	if err != nil {
		t.Fatalf("approval: %v", err)
	}
	got := merged.(*certificatesv1.CertificateSigningRequest)
	if got.Spec.SignerName != "example.com/signer" || string(got.Status.Certificate) != "stored certificate" ||
		types(got.Status.Conditions) != "Pending=test,Approved=test" || got.Annotations["approved-by"] != "test" {
		t.Errorf("approval merged %+v", got)
	}
	if !got.Status.Conditions[0].LastTransitionTime.Equal(&stored.Status.Conditions[0].LastTransitionTime) ||
		!got.Status.Conditions[1].LastTransitionTime.Time.Equal(now) || !got.Status.Conditions[1].LastUpdateTime.Time.Equal(now) {
		t.Errorf("condition times %+v", got.Status.Conditions)
	}

	// /status: the certificate and other conditions from the write; the
	// stored approval stays where the writer had it, a forged one goes.
	approved := testCSR(condition("Pending", corev1.ConditionTrue), condition(certificatesv1.CertificateApproved, corev1.ConditionTrue))
	statusWrite := testCSR(condition("Pending", corev1.ConditionTrue), certificatesv1.CertificateSigningRequestCondition{
		Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue, Reason: "forged"}, condition("Issued", corev1.ConditionTrue))
	statusWrite.Status.Certificate = []byte("issued")
	merged, err = s.MergePart("status", statusWrite, approved)
	if err != nil {
		t.Fatal(err)
	}
	got = merged.(*certificatesv1.CertificateSigningRequest)
	if types(got.Status.Conditions) != "Pending=test,Approved=test,Issued=test" || string(got.Status.Certificate) != "issued" {
		t.Errorf("status kept %s %q", types(got.Status.Conditions), got.Status.Certificate)
	}
	dropped := testCSR(condition("Issued", corev1.ConditionTrue))
	if merged, _ = s.MergePart("status", dropped, approved); types(merged.(*certificatesv1.CertificateSigningRequest).Status.Conditions) != "Issued=test,Approved=test" {
		t.Errorf("a status write dropping conditions: %s", types(merged.(*certificatesv1.CertificateSigningRequest).Status.Conditions))
	}
	denying := testCSR(condition(certificatesv1.CertificateDenied, corev1.ConditionTrue))
	if merged, _ = s.MergePart("status", denying, testCSR()); types(merged.(*certificatesv1.CertificateSigningRequest).Status.Conditions) != "" {
		t.Errorf("a status write denied: %s", types(merged.(*certificatesv1.CertificateSigningRequest).Status.Conditions))
	}
	if s.WritesPart("scale") {
		t.Error("scale handled as a part")
	}
}

func TestCSRValidation(t *testing.T) {
	s := Strategies()[csrGVR].(csrStrategy)
	ctx := context.Background()
	approvedCond := condition(certificatesv1.CertificateApproved, corev1.ConditionTrue)
	cases := []struct {
		name     string
		sub      string
		obj, old *certificatesv1.CertificateSigningRequest
		want     string // a substring of the errors, "" for none
	}{
		{"approve", "approval", testCSR(approvedCond), testCSR(), ""},
		{"approve and deny", "approval", testCSR(approvedCond, condition(certificatesv1.CertificateDenied, corev1.ConditionTrue)), testCSR(), "mutually exclusive"},
		{"approved twice", "approval", testCSR(approvedCond, approvedCond), testCSR(), "Duplicate value"},
		{"approved false", "approval", testCSR(condition(certificatesv1.CertificateApproved, corev1.ConditionFalse)), testCSR(), "Unsupported value"},
		{"take approval back", "approval", testCSR(), testCSR(approvedCond), `may not remove a condition of type "Approved"`},
		{"other condition", "approval", testCSR(condition("Checked", corev1.ConditionFalse)), testCSR(), ""},
		{"certificate unapproved", "status", func() *certificatesv1.CertificateSigningRequest {
			c := testCSR()
			c.Status.Certificate = []byte("cert")
			return c
		}(), testCSR(), "approved request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			errs := s.ValidatePart(ctx, tc.sub, tc.obj, tc.old)
			if tc.want == "" && len(errs) > 0 || tc.want != "" && !strings.Contains(errs.ToAggregate().Error(), tc.want) {
				t.Errorf("errors %v, want %q", errs, tc.want)
			}
		})
	}
	changed := testCSR()
	changed.Spec.SignerName = "example.com/other"
	if errs := s.ValidateUpdate(ctx, changed, testCSR()); len(errs) == 0 {
		t.Error("a spec change was accepted")
	}
	if errs := s.ValidateUpdate(ctx, testCSR(), testCSR()); len(errs) > 0 {
		t.Errorf("an unchanged spec: %v", errs)
	}
}

func TestTrustBundleNames(t *testing.T) {
	s := Strategies()[certificatesv1.SchemeGroupVersion.WithResource("clustertrustbundles")].(trustBundleStrategy)
	cases := []struct {
		name, signer string
		ok           bool
	}{
		{"plain-bundle", "", true},
		{"plain:bundle", "", false},
		{"example.com:signer:bundle-1", "example.com/signer", true},
		{"example.com:signer:", "example.com/signer", false},
		{"example.com:other:bundle", "example.com/signer", false},
		{"example.com:signer:Bad_Name", "example.com/signer", false},
	}
	for _, tc := range cases {
		b := &certificatesv1.ClusterTrustBundle{ObjectMeta: metav1.ObjectMeta{Name: tc.name}, Spec: certificatesv1.ClusterTrustBundleSpec{SignerName: tc.signer}}
		nameErrs, errs := s.NameValidator()(tc.name, false), s.Validate(context.Background(), b)
		if tc.ok != (len(nameErrs) == 0 && len(errs) == 0) {
			t.Errorf("%q for signer %q: name errors %v, errors %v", tc.name, tc.signer, nameErrs, errs)
		}
	}
}
