package core

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestValidateSysctls(t *testing.T) {
	for _, tc := range []struct {
		names []string
		bad   int
	}{
		{[]string{"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net/ipv4/conf/eth0/forwarding"}, 0},
		{[]string{"foo-", "bar..", "kernel.shmmax"}, 2},
		{[]string{"", "a.b"}, 1},
		{[]string{"a.b", "a.b"}, 1},
	} {
		var sysctls []corev1.Sysctl
		for _, n := range tc.names {
			sysctls = append(sysctls, corev1.Sysctl{Name: n, Value: "1"})
		}
		if errs := validateSysctls(sysctls, field.NewPath("s")); len(errs) != tc.bad {
			t.Errorf("validateSysctls(%q) = %v, want %d errors", tc.names, errs, tc.bad)
		}
	}
}
