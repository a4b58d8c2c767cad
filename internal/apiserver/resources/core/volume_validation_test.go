package core

import (
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestPodCertificateExpiry(t *testing.T) {
	p := field.NewPath("x")
	for _, tc := range []struct {
		seconds int32
		valid   bool
	}{
		{3599, false}, {3600, true}, {91 * 24 * 3600, true}, {91*24*3600 + 1, false},
	} {
		if errs := podCertificateExpiry(tc.seconds, p); (len(errs) == 0) != tc.valid {
			t.Errorf("podCertificateExpiry(%d) = %v, want valid=%v", tc.seconds, errs, tc.valid)
		}
	}
}
