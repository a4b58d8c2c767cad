package nft

import (
	"fmt"
	"hash/fnv"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/google/nftables/expr"
	corev1 "k8s.io/api/core/v1"
)

// compiled is what one Service contributes to the table: its chains and
// affinity sets, which it owns alone, its map elements, which are shared
// (two Services may claim one key; one wins, see Syncer.own), and the
// addresses of its endpoints for the hairpin set, which Services share.
type compiled struct {
	// src is the Service this was compiled from.
	src     *Service
	chains  []chain
	sets    []affinitySet
	elems   []elemRef
	hairpin []netip.Addr
	groups  []group
	// rules is the number of rules in chains.
	rules int
}

// group is a list of endpoints one rule balances over through the
// service-endpoints map: the rule draws a number in [offset, offset+n) and
// the map holds endpoint i at offset+i. A group keeps its range while the
// Service lives and its endpoints fit, so that a changed endpoint is a
// changed element and the rule stays.
type group struct {
	// key names the group: the Service port and which endpoints ("all"
	// or "local").
	key  string
	span span
	eps  []netip.AddrPort
}

// chain is a regular chain and its rules, in order. Once written, the rules
// are dropped (strip) and only their digest kept: at 10,000 Services the
// expressions would be most of the agent's memory, and a Service that
// changes is compiled again anyway.
type chain struct {
	name  string
	rules []rule
	// digest identifies the rules' texts, count is their number.
	digest uint64
	count  int
}

func newChain(name string, rules []rule) chain {
	h := fnv.New64a()
	for _, r := range rules {
		_, _ = h.Write([]byte(r.text))
		_, _ = h.Write([]byte{0})
		if r.span != nil {
			_, _ = fmt.Fprintf(h, "%d/%d/%d", r.span.shard, r.span.off, r.span.cap)
		}
	}
	return chain{name: name, rules: rules, digest: h.Sum64(), count: len(rules)}
}

// sameRules reports whether two versions of a chain hold the same rules.
func sameRules(a, b chain) bool { return a.count == b.count && a.digest == b.digest }

// strip drops the rules' expressions, keeping what later syncs compare.
func (c *compiled) strip() {
	for i := range c.chains {
		c.chains[i].rules = nil
	}
}

// affinitySet is a dynamic set of client addresses that chose one endpoint,
// each forgotten timeout after its last connection.
type affinitySet struct {
	name    string
	timeout time.Duration
}

// elemRef is one element of a named set or map.
type elemRef struct {
	set string
	// key is the element's key bytes.
	key string
	// target is "" for a set element, "drop", or the chain a verdict map
	// element goes to.
	target string
	// text renders the element for listings.
	text string
}

// Names of the table's sets, maps and fixed chains.
const (
	setClusterCIDRs      = "cluster-cidrs"
	setServiceCIDRs      = "service-cidrs"
	setNodeIPs           = "node-ips"
	setHairpin           = "hairpin"
	mapServiceIPs        = "service-ips"
	mapServiceNodePorts  = "service-nodeports"
	mapNoEndpointIPs     = "no-endpoint-services"
	mapNoEndpointPorts   = "no-endpoint-nodeports"
	chainServices        = "services"
	chainEndpointsCheck  = "endpoints-check"
	chainReject          = "reject-chain"
	chainMasquerading    = "masquerading"
	targetDrop           = "drop"
	mapServiceEndpoints  = "service-endpoints"
	chainPrefixService   = "svc-"
	chainPrefixExternal  = "ext-"
	chainPrefixEndpoint  = "ep-"
	setPrefixAffinity    = "aff-"
	endpointNameSplitter = "__"
)

// compiler turns Services into their chains and elements; it depends only
// on the Syncer's options, so a Service's result can be kept until the
// Service changes.
type compiler struct {
	fam           family
	nodeName      string
	masqueradeAll bool
	// clusterCIDRs is whether the cluster-cidrs set exists, to tell pod
	// traffic from the rest.
	clusterCIDRs bool
	// spans gives each group its range of the service-endpoints map.
	spans *spans
}

// service compiles one Service.
func (c *compiler) service(svc *Service) *compiled {
	out := &compiled{src: svc}
	for i := range svc.Ports {
		c.port(out, svc, &svc.Ports[i])
	}
	for _, ch := range out.chains {
		out.rules += ch.count
	}
	// Ports may share endpoints. Kept for the Service's life: no spare
	// capacity.
	slices.SortFunc(out.hairpin, netip.Addr.Compare)
	out.hairpin = slices.Clone(slices.Compact(out.hairpin))
	return out
}

// portID names a Service port in chain names: namespace/name/protocol/port
// name, or the port number for an unnamed port (port names contain a
// letter, so the two cannot clash).
func portID(svc *Service, p *Port) string {
	name := p.Name
	if name == "" {
		name = strconv.Itoa(int(p.Port))
	}
	return svc.Namespace + "/" + svc.Name + "/" + protoName(p.Protocol) + "/" + name
}

func (c *compiler) port(out *compiled, svc *Service, p *Port) {
	f := c.fam
	id := portID(svc, p)
	all := usableEndpoints(p.Endpoints, func(ep Endpoint) bool { return f.has(ep.Addr) })
	local := usableEndpoints(p.Endpoints, func(ep Endpoint) bool { return f.has(ep.Addr) && ep.NodeName == c.nodeName })
	proto := protoName(p.Protocol)

	var clusterKeys, externalKeys []elemRef
	addKey := func(keys []elemRef, a netip.Addr) []elemRef {
		if !f.has(a) {
			return keys
		}
		key := append(a.AsSlice(), protoNumber(p.Protocol), 0, 0, 0, byte(p.Port>>8), byte(p.Port), 0, 0)
		return append(keys, elemRef{key: string(key), text: fmt.Sprintf("%s . %s . %d", a, proto, p.Port)})
	}
	for _, a := range svc.ClusterIPs {
		clusterKeys = addKey(clusterKeys, a)
	}
	for _, a := range svc.ExternalIPs {
		externalKeys = addKey(externalKeys, a)
	}
	for _, a := range svc.LoadBalancerIPs {
		externalKeys = addKey(externalKeys, a)
	}
	var nodePortKey *elemRef
	if p.NodePort != 0 {
		key := []byte{protoNumber(p.Protocol), 0, 0, 0, byte(p.NodePort >> 8), byte(p.NodePort), 0, 0}
		nodePortKey = &elemRef{key: string(key), text: fmt.Sprintf("%s . %d", proto, p.NodePort)}
	}
	emit := func(set string, keys []elemRef, target string) {
		for _, k := range keys {
			k.set, k.target = set, target
			k.text += " : " + verdictText(target)
			out.elems = append(out.elems, k)
		}
	}
	nodePort := func(set, target string) {
		if nodePortKey != nil {
			emit(set, []elemRef{*nodePortKey}, target)
		}
	}

	if len(all) == 0 {
		// Nothing can serve: refuse new connections at once, in the
		// filter chains, rather than let clients time out.
		emit(mapNoEndpointIPs, clusterKeys, chainReject)
		emit(mapNoEndpointIPs, externalKeys, chainReject)
		nodePort(mapNoEndpointPorts, chainReject)
		return
	}

	lb := &balancer{fam: f, id: id, proto: p.Protocol, affinity: svc.AffinityTimeout, out: out, spans: c.spans}

	internal, internalGroup := all, "all"
	if svc.InternalLocal {
		internal, internalGroup = local, "local"
	}
	var rules []rule
	switch {
	case c.masqueradeAll:
		rules = append(rules, newRule(setMark()))
	case c.clusterCIDRs:
		// Traffic from outside the pod network (the node itself, other
		// hosts) is masqueraded so that replies come back through here.
		rules = append(rules, newRule(f.matchAddrInSet(true, true, setClusterCIDRs), setMark()))
	}
	rules = append(rules, lb.rules(nil, internalGroup, internal)...)
	svcChain := chainPrefixService + id
	out.chains = append(out.chains, newChain(svcChain, rules))
	emit(mapServiceIPs, clusterKeys, svcChain)

	if len(externalKeys) > 0 || nodePortKey != nil {
		rules = nil
		if !svc.ExternalLocal {
			rules = append(rules, newRule(setMark()))
			rules = append(rules, lb.rules(nil, "all", all)...)
		} else {
			// Only outside traffic is kept on this node with its source
			// address; pods and the node itself reach any endpoint, as
			// they would through the cluster IP.
			if c.clusterCIDRs {
				rules = append(rules, lb.rules([]frag{f.matchAddrInSet(true, false, setClusterCIDRs)}, "all", all)...)
			}
			rules = append(rules, newRule(matchFibLocal(true), setMark()))
			rules = append(rules, lb.rules([]frag{matchFibLocal(true)}, "all", all)...)
			rules = append(rules, lb.rules(nil, "local", local)...)
		}
		extChain := chainPrefixExternal + id
		out.chains = append(out.chains, newChain(extChain, rules))
		emit(mapServiceIPs, externalKeys, extChain)
		nodePort(mapServiceNodePorts, extChain)
	}

	// A pod that reaches itself through the Service must be masqueraded, or
	// it would answer itself directly and drop the reply.
	out.hairpin = append(out.hairpin, lb.addrs...)
}

// verdictText renders a map element's target.
func verdictText(target string) string {
	if target == targetDrop {
		return "drop"
	}
	return "goto " + target
}

// balancer writes the rules that pick one of a port's endpoints, and the
// endpoint chains and affinity sets they need, once per endpoint however
// many chains balance over it.
type balancer struct {
	fam      family
	id       string
	proto    corev1.Protocol
	affinity time.Duration
	out      *compiled
	spans    *spans
	// seen are the endpoints already given their chain and set (with
	// affinity); addrs are their addresses, once each.
	seen     map[netip.AddrPort]bool
	seenAddr map[netip.Addr]bool
	addrs    []netip.Addr
}

// rules returns the rules that DNAT to one of eps, the endpoints of the
// port's group name, each starting with prefix; with no endpoints, a rule
// that drops (a Local policy without a local endpoint).
func (b *balancer) rules(prefix []frag, name string, eps []Endpoint) []rule {
	with := func(fs ...frag) rule { return newRule(append(append([]frag(nil), prefix...), fs...)...) }
	if len(eps) == 0 {
		return []rule{with(verdict(expr.VerdictDrop, ""))}
	}
	for _, ep := range eps {
		b.endpoint(ep)
	}
	if b.affinity == 0 {
		if len(eps) == 1 {
			return []rule{with(matchL4proto(b.proto), b.fam.dnat(eps[0]))}
		}
		g := b.group(name, eps)
		r := with(matchL4proto(b.proto), b.fam.dnatGroup(len(eps), g.span, g.key))
		r.span = &g.span
		return []rule{r}
	}
	// Endpoint i of n is taken with probability 1/(n-i) when none before
	// it was, which is 1/n for each.
	pick := func(i int) []frag {
		if n := len(eps) - i; n > 1 {
			return []frag{numgenIs(n)}
		}
		return nil
	}
	rules := make([]rule, 0, 2*len(eps))
	// Session affinity: a client with a live entry in an endpoint's set
	// goes back to that endpoint; others pick one at random, and the
	// endpoint's chain records them.
	for _, ep := range eps {
		rules = append(rules, with(b.fam.matchAddrInSet(true, false, b.affinitySet(ep)), goTo(b.endpointChain(ep))))
	}
	for i, ep := range eps {
		rules = append(rules, with(append(pick(i), goTo(b.endpointChain(ep)))...))
	}
	return rules
}

// group returns the port's group name over eps, adding it to the compiled
// Service the first time.
func (b *balancer) group(name string, eps []Endpoint) *group {
	key := b.id + "/" + name
	for i := range b.out.groups {
		if b.out.groups[i].key == key {
			return &b.out.groups[i]
		}
	}
	g := group{key: key, span: b.spans.get(key, len(eps)), eps: make([]netip.AddrPort, len(eps))}
	for i, ep := range eps {
		g.eps[i] = netip.AddrPortFrom(ep.Addr, ep.Port)
	}
	b.out.groups = append(b.out.groups, g)
	return &b.out.groups[len(b.out.groups)-1]
}

func (b *balancer) endpointChain(ep Endpoint) string {
	return chainPrefixEndpoint + b.id + endpointNameSplitter + netip.AddrPortFrom(ep.Addr, ep.Port).String()
}

// affinitySet names the endpoint's set; the timeout is part of the name, so
// that a new timeout is a new set and the chains using it are rewritten.
func (b *balancer) affinitySet(ep Endpoint) string {
	return fmt.Sprintf("%s%s%s%s/%d", setPrefixAffinity, b.id, endpointNameSplitter,
		netip.AddrPortFrom(ep.Addr, ep.Port), int64(b.affinity/time.Second))
}

// endpoint records ep once: its address for the hairpin set and, with
// affinity, its chain and set.
func (b *balancer) endpoint(ep Endpoint) {
	ap := netip.AddrPortFrom(ep.Addr, ep.Port)
	if b.seen[ap] {
		return
	}
	if b.seen == nil {
		b.seen, b.seenAddr = map[netip.AddrPort]bool{}, map[netip.Addr]bool{}
	}
	b.seen[ap] = true
	if !b.seenAddr[ep.Addr] {
		b.seenAddr[ep.Addr] = true
		b.addrs = append(b.addrs, ep.Addr)
	}
	if b.affinity == 0 {
		return
	}
	set := b.affinitySet(ep)
	b.out.sets = append(b.out.sets, affinitySet{name: set, timeout: b.affinity})
	b.out.chains = append(b.out.chains, newChain(b.endpointChain(ep), []rule{
		newRule(b.fam.updateSet(set)),
		newRule(matchL4proto(b.proto), b.fam.dnat(ep)),
	}))
}
