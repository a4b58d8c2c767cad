package dns

import (
	"net/netip"
	"strconv"
	"strings"
)

// dashed spells an address as one DNS label: 10.42.0.5 as 10-42-0-5 and
// fd00::5 as fd00--5. Endpoints without a hostname are named so, and pod
// names (<dashed>.<ns>.pod.<domain>) are parsed from it.
func dashed(ip netip.Addr) string {
	if ip.Is4() {
		return strings.ReplaceAll(ip.String(), ".", "-")
	}
	return strings.ReplaceAll(ip.String(), ":", "-")
}

// parseDashed is the inverse of dashed; ok is false for a label that is
// not an address so spelt.
func parseDashed(label string) (netip.Addr, bool) {
	if strings.Count(label, "-") == 3 && !strings.Contains(label, "--") {
		ip, err := netip.ParseAddr(strings.ReplaceAll(label, "-", "."))
		return ip, err == nil && ip.Is4()
	}
	ip, err := netip.ParseAddr(strings.ReplaceAll(label, "-", ":"))
	if err != nil || !ip.Is6() || ip.Is4In6() || ip.Zone() != "" {
		return netip.Addr{}, false
	}
	return ip, true
}

// Reverse zones, in lower case and fully qualified.
const (
	reverseV4 = "in-addr.arpa."
	reverseV6 = "ip6.arpa."
)

// parseReverse returns the address a PTR name spells (d.c.b.a.in-addr.arpa.
// or 32 nibbles under ip6.arpa.), lower case and fully qualified; ok is
// false for anything else, including the names of whole networks.
func parseReverse(name string) (netip.Addr, bool) {
	switch {
	case strings.HasSuffix(name, "."+reverseV4):
		labels := strings.Split(strings.TrimSuffix(name, "."+reverseV4), ".")
		if len(labels) != 4 {
			return netip.Addr{}, false
		}
		var b [4]byte
		for i, l := range labels {
			// No leading zeros or signs: "010" is not a reverse label.
			n, err := strconv.ParseUint(l, 10, 8)
			if err != nil || strconv.FormatUint(n, 10) != l {
				return netip.Addr{}, false
			}
			b[3-i] = byte(n)
		}
		return netip.AddrFrom4(b), true
	case strings.HasSuffix(name, "."+reverseV6):
		labels := strings.Split(strings.TrimSuffix(name, "."+reverseV6), ".")
		if len(labels) != 32 {
			return netip.Addr{}, false
		}
		var b [16]byte
		for i, l := range labels {
			if len(l) != 1 {
				return netip.Addr{}, false
			}
			n, err := strconv.ParseUint(l, 16, 8)
			if err != nil {
				return netip.Addr{}, false
			}
			pos := 31 - i // nibble index from the most significant
			b[pos/2] |= byte(n) << (4 * (1 - pos%2))
		}
		ip := netip.AddrFrom16(b)
		return ip, !ip.Is4In6()
	}
	return netip.Addr{}, false
}

// subdomain tells whether name is zone or below it; both are lower case
// and fully qualified.
func subdomain(name, zone string) bool {
	return name == zone || strings.HasSuffix(name, "."+zone)
}
