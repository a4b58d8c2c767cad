package nft

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
)

// tableChain is a chain whose rules do not depend on the Services: the base
// chains on the hooks and the dispatch chains they jump to.
type tableChain struct {
	name  string
	typ   nftables.ChainType
	hook  *nftables.ChainHook
	prio  *nftables.ChainPriority
	rules []rule
}

// Priorities of the base chains: the endpoint check runs before DNAT so that
// it sees the Service address, the service-CIDR check after DNAT so that it
// only sees what no Service rule rewrote.
var (
	prioBeforeDNAT = nftables.ChainPriorityRef(*nftables.ChainPriorityNATDest - 10)
	prioAfterDNAT  = nftables.ChainPriorityRef(*nftables.ChainPriorityNATDest + 10)
)

// staticSets returns the table's named sets and maps, with the elements that
// come from the options.
func (s *Syncer) staticSets() []*nftables.Set {
	f := s.fam
	ipProtoPort := nftables.MustConcatSetType(f.addrType, nftables.TypeInetProto, nftables.TypeInetService)
	protoPort := nftables.MustConcatSetType(nftables.TypeInetProto, nftables.TypeInetService)
	vmap := func(name string, key nftables.SetDatatype) *nftables.Set {
		return &nftables.Set{Name: name, IsMap: true, Concatenation: true, KeyType: key, DataType: nftables.TypeVerdict}
	}
	sets := []*nftables.Set{
		vmap(mapServiceIPs, ipProtoPort),
		vmap(mapServiceNodePorts, protoPort),
		vmap(mapNoEndpointIPs, ipProtoPort),
		vmap(mapNoEndpointPorts, protoPort),
		{Name: setHairpin, Concatenation: true, KeyType: nftables.MustConcatSetType(f.addrType, f.addrType)},
	}
	for i := range uint8(endpointShards) {
		// Keys are numgen's numbers, in host byte order; "mark" is the
		// fixed-size 32-bit type nft(8) can print for them.
		sets = append(sets, &nftables.Set{Name: shardMap(i), IsMap: true, KeyType: nftables.TypeMark,
			KeyByteOrder: binaryutil.NativeEndian, DataType: nftables.MustConcatSetType(f.addrType, nftables.TypeInetService)})
	}
	if len(s.clusterCIDRs) > 0 {
		sets = append(sets, &nftables.Set{Name: setClusterCIDRs, Interval: true, KeyType: f.addrType})
	}
	if len(s.serviceCIDRs) > 0 {
		sets = append(sets, &nftables.Set{Name: setServiceCIDRs, Interval: true, KeyType: f.addrType})
	}
	if len(s.nodeIPs) > 0 {
		sets = append(sets, &nftables.Set{Name: setNodeIPs, KeyType: f.addrType})
	}
	return sets
}

// staticElements returns the elements of the option-driven sets.
func (s *Syncer) staticElements(set string) []nftables.SetElement {
	switch set {
	case setClusterCIDRs:
		return intervalElements(s.clusterCIDRs)
	case setServiceCIDRs:
		return intervalElements(s.serviceCIDRs)
	case setNodeIPs:
		elems := make([]nftables.SetElement, 0, len(s.nodeIPs))
		for _, a := range s.nodeIPs {
			elems = append(elems, nftables.SetElement{Key: a.AsSlice()})
		}
		return elems
	}
	return nil
}

// intervalElements returns an interval set's elements for prefixes, which
// must not overlap (see mergePrefixes): each range is its first address and
// an end marker one past its last.
func intervalElements(prefixes []netip.Prefix) []nftables.SetElement {
	var elems []nftables.SetElement
	for _, p := range prefixes {
		elems = append(elems, nftables.SetElement{Key: p.Addr().AsSlice()})
		if end, ok := lastAddr(p); ok {
			if next := end.Next(); next.IsValid() {
				elems = append(elems, nftables.SetElement{Key: next.AsSlice(), IntervalEnd: true})
			}
		}
	}
	return elems
}

// lastAddr is the last address of p.
func lastAddr(p netip.Prefix) (netip.Addr, bool) {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	return netip.AddrFromSlice(b)
}

// mergePrefixes returns the prefixes of family f, masked, sorted, without
// those another one contains: interval sets refuse overlapping ranges.
func mergePrefixes(f family, in []netip.Prefix) []netip.Prefix {
	var ps []netip.Prefix
	for _, p := range in {
		if p.IsValid() && f.has(p.Addr()) {
			ps = append(ps, p.Masked())
		}
	}
	slices.SortFunc(ps, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return cmp.Compare(a.Bits(), b.Bits())
	})
	var out []netip.Prefix
	for _, p := range ps {
		if n := len(out); n > 0 && out[n-1].Contains(p.Addr()) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// staticChains returns the chains whose rules depend only on the options.
func (s *Syncer) staticChains() []tableChain {
	f := s.fam
	nodePortMatch := func(m string) []rule {
		rules := []rule{newRule(matchFibLocal(false), f.matchDaddrNotIn(f.loopback), matchProtoPortVmap(m))}
		if len(s.nodeIPs) > 0 {
			rules = append(rules, newRule(f.matchAddrInSet(false, false, setNodeIPs), matchProtoPortVmap(m)))
		}
		return rules
	}
	chains := []tableChain{
		{name: "nat-prerouting", typ: nftables.ChainTypeNAT, hook: nftables.ChainHookPrerouting,
			prio: nftables.ChainPriorityNATDest, rules: []rule{newRule(jump(chainServices))}},
		{name: "nat-output", typ: nftables.ChainTypeNAT, hook: nftables.ChainHookOutput,
			prio: nftables.ChainPriorityNATDest, rules: []rule{newRule(jump(chainServices))}},
		{name: "nat-postrouting", typ: nftables.ChainTypeNAT, hook: nftables.ChainHookPostrouting,
			prio: nftables.ChainPriorityNATSource, rules: []rule{newRule(jump(chainMasquerading))}},
		// Reject in prerouting, before routing: the node may route the
		// service CIDR nowhere (a blackhole), and forward would never see
		// the packet.
		{name: "filter-prerouting", typ: nftables.ChainTypeFilter, hook: nftables.ChainHookPrerouting,
			prio: prioBeforeDNAT, rules: []rule{newRule(ctStateNew, jump(chainEndpointsCheck))}},
		{name: "filter-output", typ: nftables.ChainTypeFilter, hook: nftables.ChainHookOutput,
			prio: prioBeforeDNAT, rules: []rule{newRule(ctStateNew, jump(chainEndpointsCheck))}},
		{name: chainServices, rules: append([]rule{newRule(f.matchDaddrProtoPortVmap(mapServiceIPs))},
			nodePortMatch(mapServiceNodePorts)...)},
		{name: chainEndpointsCheck, rules: append([]rule{newRule(f.matchDaddrProtoPortVmap(mapNoEndpointIPs))},
			nodePortMatch(mapNoEndpointPorts)...)},
		{name: chainReject, rules: []rule{
			newRule(matchL4proto("TCP"), rejectTCPReset()),
			newRule(f.rejectICMP()),
		}},
		{name: chainMasquerading, rules: []rule{
			newRule(ctStatusDNAT, f.matchHairpin(setHairpin), masquerade()),
			newRule(markUnset(), verdict(expr.VerdictReturn, "")),
			newRule(clearMark()),
			newRule(masquerade()),
		}},
	}
	if len(s.serviceCIDRs) > 0 {
		// Whatever still goes to the service CIDR after DNAT is no
		// Service's address and port: refuse it rather than route it.
		unknown := []rule{newRule(ctStateNew, f.matchAddrInSet(false, false, setServiceCIDRs), goTo(chainReject))}
		chains = append(chains,
			tableChain{name: "filter-prerouting-post-dnat", typ: nftables.ChainTypeFilter,
				hook: nftables.ChainHookPrerouting, prio: prioAfterDNAT, rules: unknown},
			tableChain{name: "filter-output-post-dnat", typ: nftables.ChainTypeFilter,
				hook: nftables.ChainHookOutput, prio: prioAfterDNAT, rules: unknown})
	}
	return chains
}
