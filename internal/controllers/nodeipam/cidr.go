package nodeipam

import (
	"fmt"
	"net/netip"
)

// DefaultClusterCIDR is the pod network nodes get their CIDRs from.
const DefaultClusterCIDR = "10.42.0.0/16"

// NodeMaskSize is the prefix length of each node's CIDR: /24 (254 pods'
// addresses) in an IPv4 cluster CIDR, /64 in an IPv6 one.
func NodeMaskSize(cluster netip.Prefix) int {
	if cluster.Addr().Is4() {
		return 24
	}
	return 64
}

// ParseClusterCIDR parses and checks a cluster CIDR: a network address
// with room for at least one node CIDR.
func ParseClusterCIDR(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("cluster CIDR: %w", err)
	}
	if _, err := NewAllocator(p, NodeMaskSize(p)); err != nil {
		return netip.Prefix{}, err
	}
	return p, nil
}
