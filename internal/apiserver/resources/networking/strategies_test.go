package networking

import "testing"

func TestValidateIPAddressName(t *testing.T) {
	for name, valid := range map[string]bool{
		"10.43.0.7": true, "fe80::42:1dff:fe84:f9e2": true, "2001:db8::1": true,
		"2001:DB8::1": false, "010.43.0.7": false, "not-an-ip": false, "fe80::1%eth0": false,
	} {
		if got := len(ValidateIPAddressName(name, false)) == 0; got != valid {
			t.Errorf("ValidateIPAddressName(%q) valid = %v, want %v", name, got, valid)
		}
	}
}
