package dns

import (
	"context"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// schemaVersion is the Kubernetes DNS specification version served as the
// TXT record of dns-version.<domain>.
const schemaVersion = "1.1.0"

// maxChase bounds how many in-domain CNAMEs (ExternalName Services naming
// each other) one answer follows, so that a loop ends.
const maxChase = 8

// zone answers the names of the cluster domain from a Store; it holds no
// state of its own, so one zone serves every query concurrently.
type zone struct {
	origin string // the domain, lower case and fully qualified
	ttl    uint32
	store  Store
	pods   PodMode
	// nsIPs are the addresses of ns.dns.<domain>, the name server the
	// zone's NS and SOA records name.
	nsIPs []netip.Addr
	// lookupExternal resolves a name outside the domain that an
	// ExternalName Service points to; nil when forwarding is off.
	lookupExternal func(ctx context.Context, name string, qtype uint16, tcp bool) (*dns.Msg, error)
}

// reply is the outcome of a lookup before it becomes a message.
type reply struct {
	rcode     int
	answer    []dns.RR
	extra     []dns.RR
	authority []dns.RR // an upstream's, for a chased name; else the zone's SOA on a negative answer
	truncated bool     // an upstream's answer for a chased name was truncated
}

func nxdomain() reply { return reply{rcode: dns.RcodeNameError} }

// nodata is the answer for a name that exists without records of the type
// asked: NOERROR and an empty answer section.
func nodata() reply { return reply{rcode: dns.RcodeSuccess} }

// lookup answers qtype for name (lower case, fully qualified, in the
// domain); owner is the name as asked, which the answer records carry.
func (z *zone) lookup(ctx context.Context, owner, name string, qtype uint16, tcp bool, depth int) reply {
	if name == z.origin {
		return z.apex(owner, qtype)
	}
	labels := strings.Split(strings.TrimSuffix(name, "."+z.origin), ".")
	n := len(labels)
	switch {
	case n == 1 && labels[0] == "dns-version":
		if qtype == dns.TypeTXT || qtype == dns.TypeANY {
			return reply{answer: []dns.RR{&dns.TXT{Hdr: z.hdr(owner, dns.TypeTXT), Txt: []string{schemaVersion}}}}
		}
		return nodata()
	case n == 1 && labels[0] == "dns":
		return nodata()
	case n == 2 && labels[0] == "ns" && labels[1] == "dns":
		return reply{answer: z.addrRecords(owner, z.nsIPs, qtype)}
	case labels[n-1] == "svc":
		return z.serviceName(ctx, owner, labels[:n-1], qtype, tcp, depth)
	case labels[n-1] == "pod":
		return z.podName(owner, labels[:n-1], qtype)
	}
	return nxdomain()
}

// apex answers the domain itself: its SOA and NS records.
func (z *zone) apex(owner string, qtype uint16) reply {
	switch qtype {
	case dns.TypeSOA:
		return reply{answer: []dns.RR{z.soa(owner)}}
	case dns.TypeNS:
		ns := &dns.NS{Hdr: z.hdr(owner, dns.TypeNS), Ns: "ns.dns." + z.origin}
		return reply{answer: []dns.RR{ns}, extra: z.addrRecords(ns.Ns, z.nsIPs, dns.TypeANY)}
	}
	return nodata()
}

// serviceName answers <...>.<ns>.svc.<domain>; labels are those before
// "svc", the namespace last.
func (z *zone) serviceName(ctx context.Context, owner string, labels []string, qtype uint16, tcp bool, depth int) reply {
	n := len(labels)
	if n == 0 {
		return nodata()
	}
	ns := labels[n-1]
	if n == 1 {
		if z.store.Namespace(ns) {
			return nodata()
		}
		return nxdomain()
	}
	svc := z.store.Service(ns, labels[n-2])
	if svc == nil {
		return nxdomain()
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		if n != 2 {
			return nxdomain()
		}
		return z.externalName(ctx, owner, svc, qtype, tcp, depth)
	}
	switch {
	case n == 2:
		return z.service(owner, svc, qtype)
	case n == 3 && strings.HasPrefix(labels[0], "_"):
		// _tcp.<svc>: a name with no records of its own above the SRV
		// records of the Service's named ports of that protocol; none
		// while a headless Service has no endpoint.
		if headless(svc) && len(z.endpoints(svc)) == 0 {
			return nxdomain()
		}
		for _, p := range svc.Spec.Ports {
			if p.Name != "" && strings.EqualFold("_"+string(protocol(p.Protocol)), labels[0]) {
				return nodata()
			}
		}
		return nxdomain()
	case n == 3:
		return z.endpoint(owner, svc, labels[0], qtype)
	case n == 4 && strings.HasPrefix(labels[0], "_") && strings.HasPrefix(labels[1], "_"):
		return z.namedPort(owner, svc, labels[0][1:], labels[1][1:], qtype)
	}
	return nxdomain()
}

// service answers <svc>.<ns>.svc.<domain>.
func (z *zone) service(owner string, svc *corev1.Service, qtype uint16) reply {
	if !headless(svc) {
		ips := clusterIPs(svc)
		if qtype != dns.TypeSRV {
			return reply{answer: z.addrRecords(owner, ips, qtype)}
		}
		target := z.serviceFQDN(svc)
		var srvs []dns.RR
		for _, p := range svc.Spec.Ports {
			srvs = append(srvs, z.srv(owner, uint16(p.Port), target))
		}
		weigh(srvs)
		return reply{answer: srvs, extra: z.addrRecords(target, ips, dns.TypeANY)}
	}
	eps := z.endpoints(svc)
	if len(eps) == 0 {
		// The specification: a headless Service without ready endpoints
		// is NXDOMAIN, not an empty answer.
		return nxdomain()
	}
	if qtype == dns.TypeSRV {
		return z.headlessSRV(owner, svc, eps, func(discoveryv1.EndpointPort) bool { return true })
	}
	seen := make(map[netip.Addr]bool, len(eps))
	var ips []netip.Addr
	for _, ep := range eps {
		if !seen[ep.addr] {
			seen[ep.addr] = true
			ips = append(ips, ep.addr)
		}
	}
	return reply{answer: z.addrRecords(owner, ips, qtype)}
}

// endpoint answers <hostname>.<svc>.<ns>.svc.<domain>: the endpoints named
// so, by their hostname or their dashed address.
func (z *zone) endpoint(owner string, svc *corev1.Service, host string, qtype uint16) reply {
	var ips []netip.Addr
	for _, ep := range z.endpoints(svc) {
		if ep.host == host && !slices.Contains(ips, ep.addr) {
			ips = append(ips, ep.addr)
		}
	}
	if len(ips) == 0 {
		return nxdomain()
	}
	return reply{answer: z.addrRecords(owner, ips, qtype)}
}

// namedPort answers _<port>._<proto>.<svc>.<ns>.svc.<domain>.
func (z *zone) namedPort(owner string, svc *corev1.Service, port, proto string, qtype uint16) reply {
	match := func(name *string, p *corev1.Protocol) bool {
		return port != "" && name != nil && strings.EqualFold(*name, port) &&
			strings.EqualFold(string(protocol(deref(p))), proto)
	}
	if headless(svc) {
		eps := z.endpoints(svc)
		r := z.headlessSRV(owner, svc, eps, func(p discoveryv1.EndpointPort) bool { return match(p.Name, p.Protocol) })
		if len(r.answer) == 0 {
			return nxdomain()
		}
		if qtype != dns.TypeSRV && qtype != dns.TypeANY {
			return nodata()
		}
		return r
	}
	target := z.serviceFQDN(svc)
	var srvs []dns.RR
	for i := range svc.Spec.Ports {
		p := &svc.Spec.Ports[i]
		if match(&p.Name, &p.Protocol) {
			srvs = append(srvs, z.srv(owner, uint16(p.Port), target))
		}
	}
	if len(srvs) == 0 {
		return nxdomain()
	}
	if qtype != dns.TypeSRV && qtype != dns.TypeANY {
		return nodata()
	}
	weigh(srvs)
	return reply{answer: srvs, extra: z.addrRecords(target, clusterIPs(svc), dns.TypeANY)}
}

// headlessSRV returns one SRV record per published endpoint and port of
// the Service's slices that keep accepts, pointing at the endpoint's name,
// whose address records go to the additional section.
func (z *zone) headlessSRV(owner string, svc *corev1.Service, eps []endpoint, keep func(discoveryv1.EndpointPort) bool) reply {
	type key struct {
		target string
		port   int32
	}
	seen := map[key]bool{}
	seenAddr := map[endpoint]bool{}
	var r reply
	for _, ep := range eps {
		target := ep.host + "." + z.serviceFQDN(svc)
		for _, p := range ep.slice.Ports {
			if p.Port == nil || !keep(p) || seen[key{target, *p.Port}] {
				continue
			}
			seen[key{target, *p.Port}] = true
			r.answer = append(r.answer, z.srv(owner, uint16(*p.Port), target))
			if !seenAddr[endpoint{host: ep.host, addr: ep.addr}] {
				seenAddr[endpoint{host: ep.host, addr: ep.addr}] = true
				r.extra = append(r.extra, z.addrRecords(target, []netip.Addr{ep.addr}, dns.TypeANY)...)
			}
		}
	}
	weigh(r.answer)
	return r
}

// externalName answers an ExternalName Service: a CNAME to its external
// name, followed within the domain, or through an upstream outside it so
// that clients which do not chase CNAMEs get addresses.
func (z *zone) externalName(ctx context.Context, owner string, svc *corev1.Service, qtype uint16, tcp bool, depth int) reply {
	target := dns.Fqdn(strings.ToLower(svc.Spec.ExternalName))
	r := reply{answer: []dns.RR{&dns.CNAME{Hdr: z.hdr(owner, dns.TypeCNAME), Target: target}}}
	if qtype == dns.TypeCNAME {
		return r
	}
	if subdomain(target, z.origin) {
		if depth >= maxChase {
			return r
		}
		next := z.lookup(ctx, target, target, qtype, tcp, depth+1)
		// A loop of CNAMEs ends after maxChase steps; repeats are
		// dropped so that the client sees each link once.
		next.answer = dns.Dedup(append(r.answer, next.answer...), nil)
		return next
	}
	if z.lookupExternal == nil {
		return r
	}
	resp, err := z.lookupExternal(ctx, target, qtype, tcp)
	if err != nil || (resp.Rcode != dns.RcodeSuccess && resp.Rcode != dns.RcodeNameError) {
		// The CNAME alone still lets a resolver chase the name itself.
		return r
	}
	r.rcode = resp.Rcode
	r.answer = append(r.answer, resp.Answer...)
	r.authority = resp.Ns
	r.truncated = resp.Truncated
	return r
}

// podName answers <dashed-ip>.<ns>.pod.<domain>; labels are those before
// "pod", the namespace last.
func (z *zone) podName(owner string, labels []string, qtype uint16) reply {
	n := len(labels)
	switch {
	case n == 0:
		return nodata()
	case z.pods == PodsDisabled || n > 2 || !z.store.Namespace(labels[n-1]):
		return nxdomain()
	case n == 1:
		return nodata()
	}
	ip, ok := parseDashed(labels[0])
	if !ok || (z.pods == PodsVerified && !z.store.Pod(labels[1], ip)) {
		return nxdomain()
	}
	return reply{answer: z.addrRecords(owner, []netip.Addr{ip}, qtype)}
}

// reverse answers a PTR name for ip: the Services with that cluster IP and
// the named endpoints with that address. found is false when the cluster
// has no such address, so that the name can be forwarded.
func (z *zone) reverse(owner string, ip netip.Addr, qtype uint16) (r reply, found bool) {
	var targets []string
	for _, svc := range z.store.ServicesByIP(ip) {
		targets = append(targets, z.serviceFQDN(svc))
	}
	for _, es := range z.store.EndpointSlicesByIP(ip) {
		svc := z.store.Service(es.Namespace, es.Labels[discoveryv1.LabelServiceName])
		if svc == nil {
			continue
		}
		for _, ep := range publishedEndpoints(svc, es) {
			if ep.addr == ip {
				targets = append(targets, ep.host+"."+z.serviceFQDN(svc))
			}
		}
	}
	if len(targets) == 0 {
		return reply{}, false
	}
	if qtype != dns.TypePTR && qtype != dns.TypeANY {
		return nodata(), true
	}
	seen := make(map[string]bool, len(targets))
	for _, t := range targets {
		if !seen[t] {
			seen[t] = true
			r.answer = append(r.answer, &dns.PTR{Hdr: z.hdr(owner, dns.TypePTR), Ptr: t})
		}
	}
	return r, true
}

// endpoint is one published address of a Service, with its name.
type endpoint struct {
	host  string // the endpoint's hostname, or its dashed address
	addr  netip.Addr
	slice *discoveryv1.EndpointSlice
}

// endpoints returns the Service's published endpoints across its slices.
// An endpoint repeated in two slices (as while slices are rebalanced) is
// returned once per slice, since each slice carries its own ports; callers
// drop repeated names and addresses.
func (z *zone) endpoints(svc *corev1.Service) []endpoint {
	var out []endpoint
	for _, es := range z.store.EndpointSlices(svc.Namespace, svc.Name) {
		out = append(out, publishedEndpoints(svc, es)...)
	}
	return out
}

// publishedEndpoints returns the endpoints of es that DNS publishes: the
// ready ones (a missing condition counts as ready, as the EndpointSlice
// API says), or all of them when the Service publishes not-ready
// addresses.
func publishedEndpoints(svc *corev1.Service, es *discoveryv1.EndpointSlice) []endpoint {
	if es.AddressType != discoveryv1.AddressTypeIPv4 && es.AddressType != discoveryv1.AddressTypeIPv6 {
		return nil
	}
	out := make([]endpoint, 0, len(es.Endpoints))
	for i := range es.Endpoints {
		ep := &es.Endpoints[i]
		if !svc.Spec.PublishNotReadyAddresses && ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
			continue
		}
		for _, a := range ep.Addresses {
			ip, err := netip.ParseAddr(a)
			if err != nil {
				continue
			}
			ip = ip.Unmap()
			host := dashed(ip)
			if ep.Hostname != nil && *ep.Hostname != "" {
				host = strings.ToLower(*ep.Hostname)
			}
			out = append(out, endpoint{host: host, addr: ip, slice: es})
		}
	}
	return out
}

// addrRecords returns the A records of the IPv4 addresses in ips for an A
// query, AAAA of the IPv6 ones for AAAA, both for ANY, none otherwise.
func (z *zone) addrRecords(owner string, ips []netip.Addr, qtype uint16) []dns.RR {
	var rrs []dns.RR
	for _, ip := range ips {
		switch {
		case ip.Is4() && (qtype == dns.TypeA || qtype == dns.TypeANY):
			rrs = append(rrs, &dns.A{Hdr: z.hdr(owner, dns.TypeA), A: ip.AsSlice()})
		case ip.Is6() && (qtype == dns.TypeAAAA || qtype == dns.TypeANY):
			rrs = append(rrs, &dns.AAAA{Hdr: z.hdr(owner, dns.TypeAAAA), AAAA: ip.AsSlice()})
		}
	}
	return rrs
}

func (z *zone) srv(owner string, port uint16, target string) *dns.SRV {
	return &dns.SRV{Hdr: z.hdr(owner, dns.TypeSRV), Priority: 0, Weight: 100, Port: port, Target: target}
}

// weigh shares a weight of 100 between equal SRV records, as CoreDNS
// does, so that clients pick among them evenly.
func weigh(rrs []dns.RR) {
	w := uint16(max(100/max(len(rrs), 1), 1))
	for _, rr := range rrs {
		if srv, ok := rr.(*dns.SRV); ok {
			srv.Weight = w
		}
	}
}

// soa is the zone's SOA record; its minimum, the negative-caching TTL, is
// the zone's TTL so that a name created after a miss resolves soon.
func (z *zone) soa(owner string) *dns.SOA {
	return &dns.SOA{Hdr: z.hdr(owner, dns.TypeSOA), Ns: "ns.dns." + z.origin, Mbox: "hostmaster." + z.origin,
		Serial: z.store.Serial(), Refresh: 7200, Retry: 1800, Expire: 86400, Minttl: z.ttl}
}

func (z *zone) hdr(owner string, rrtype uint16) dns.RR_Header {
	return dns.RR_Header{Name: owner, Rrtype: rrtype, Class: dns.ClassINET, Ttl: z.ttl}
}

// serviceFQDN is <svc>.<ns>.svc.<domain>.
func (z *zone) serviceFQDN(svc *corev1.Service) string {
	return svc.Name + "." + svc.Namespace + ".svc." + z.origin
}

func headless(svc *corev1.Service) bool { return svc.Spec.ClusterIP == corev1.ClusterIPNone }

// protocol defaults an empty protocol to TCP, as the API does.
func protocol(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return p
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
