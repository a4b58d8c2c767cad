// Package dns is the cluster DNS server of a node: authoritative for the
// cluster domain (cluster.local), answering Service, endpoint, pod, SRV
// and PTR names as the Kubernetes DNS specification and CoreDNS's
// kubernetes plugin do, from informer caches with no API call per query,
// and forwarding other names to the node's resolvers.
package dns

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/sync/errgroup"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
)

// ednsSize is the UDP payload size the server advertises in its OPT
// records: the DNS flag day 2020 value, which avoids IP fragmentation.
const ednsSize = 1232

// shutdownTimeout bounds how long Run waits for queries in flight.
const shutdownTimeout = 5 * time.Second

// Server is a cluster DNS server. Create it with New and serve with Run.
type Server struct {
	opts      Options
	zone      *zone
	informers *informerStore // nil when Options.Store is given
	forwarder *forwarder     // nil when forwarding is off or there is no upstream
}

// New checks opts, fills their defaults (reading the resolv.conf file for
// the upstreams) and builds the server; nothing runs until Run.
func New(opts Options) (*Server, error) {
	if err := opts.complete(); err != nil {
		return nil, err
	}
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("dns options: %w", err)
	}
	s := &Server{opts: opts}
	store := opts.Store
	if store == nil {
		inf, err := newInformerStore(opts.Client, opts.Pods == PodsVerified)
		if err != nil {
			return nil, err
		}
		s.informers, store = inf, inf
	}
	s.zone = &zone{origin: opts.Domain + ".", ttl: uint32(opts.TTL / time.Second), store: store,
		pods: opts.Pods, nsIPs: nameserverIPs(&opts)}
	if len(opts.Upstreams) > 0 {
		s.forwarder = newForwarder(opts.Upstreams, opts.ForwardTimeout)
		s.zone.lookupExternal = s.forwarder.lookup
	}
	return s, nil
}

// Upstreams returns the servers names outside the domain are forwarded to.
func (s *Server) Upstreams() []string { return s.forwarder.servers() }

// Run starts the informers (unless a Store was given), waits for their
// caches, then serves UDP and TCP on every address until ctx ends. It
// returns after its goroutines have, with the first error of a listener.
func (s *Server) Run(ctx context.Context) error {
	logger := klog.FromContext(ctx)
	servers, err := s.bind(ctx)
	if err != nil {
		return err
	}
	if s.informers != nil {
		s.informers.factory.Start(ctx.Done())
		defer s.informers.factory.Shutdown()
		if !cache.WaitForCacheSync(ctx.Done(), s.informers.synced...) {
			// Only the end of ctx stops the wait: a shutdown, not an error.
			closeAll(servers)
			return nil
		}
	}
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) { s.serve(ctx, w, req) })
	g, gctx := errgroup.WithContext(ctx)
	var addrs []string
	for _, ls := range servers {
		ls.srv.Handler = handler
		addrs = append(addrs, ls.proto+"/"+ls.addr)
		g.Go(func() error {
			defer close(ls.done)
			err := ls.srv.ActivateAndServe()
			if err != nil && gctx.Err() == nil {
				return fmt.Errorf("dns: serve %s %s: %w", ls.proto, ls.addr, err)
			}
			return nil
		})
	}
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
		defer cancel()
		for _, ls := range servers {
			select {
			case <-ls.started:
				// ShutdownContext closes the socket and waits for the
				// queries in flight.
				_ = ls.srv.ShutdownContext(sctx)
			case <-ls.done:
			}
		}
		return nil
	})
	logger.V(2).Info("Cluster DNS serving", "domain", s.opts.Domain, "addresses", addrs, "upstreams", s.Upstreams())
	return g.Wait()
}

// listener is one dns.Server on one socket.
type listener struct {
	srv           *dns.Server
	proto, addr   string
	started, done chan struct{}
}

// bind opens the sockets of Options.Addresses and wraps every socket,
// bound here or given, in a dns.Server.
func (s *Server) bind(ctx context.Context) ([]*listener, error) {
	var out []*listener
	add := func(srv *dns.Server, proto, addr string) {
		ls := &listener{srv: srv, proto: proto, addr: addr, started: make(chan struct{}), done: make(chan struct{})}
		srv.NotifyStartedFunc = func() { close(ls.started) }
		// Queries are small, but EDNS clients may send larger ones.
		srv.UDPSize = dns.DefaultMsgSize
		out = append(out, ls)
	}
	// The given sockets first, so that a failure to bind closes them too.
	for _, pc := range s.opts.PacketConns {
		add(&dns.Server{PacketConn: pc}, "udp", pc.LocalAddr().String())
	}
	for _, l := range s.opts.Listeners {
		add(&dns.Server{Listener: l}, "tcp", l.Addr().String())
	}
	var lc net.ListenConfig
	for _, a := range s.opts.Addresses {
		pc, err := lc.ListenPacket(ctx, "udp", a)
		if err != nil {
			closeAll(out)
			return nil, fmt.Errorf("dns: listen udp %s: %w", a, err)
		}
		add(&dns.Server{PacketConn: pc}, "udp", a)
		l, err := lc.Listen(ctx, "tcp", a)
		if err != nil {
			closeAll(out)
			return nil, fmt.Errorf("dns: listen tcp %s: %w", a, err)
		}
		add(&dns.Server{Listener: l}, "tcp", a)
	}
	return out, nil
}

func closeAll(ls []*listener) {
	for _, l := range ls {
		if l.srv.PacketConn != nil {
			_ = l.srv.PacketConn.Close()
		}
		if l.srv.Listener != nil {
			_ = l.srv.Listener.Close()
		}
	}
}

// serve answers one query.
func (s *Server) serve(ctx context.Context, w dns.ResponseWriter, req *dns.Msg) {
	tcp := false
	if a := w.LocalAddr(); a != nil {
		tcp = a.Network() == "tcp"
	}
	resp := s.answer(ctx, req, tcp)
	if resp == nil {
		return
	}
	finish(req, resp, tcp)
	if err := w.WriteMsg(resp); err != nil {
		// The client is gone or the packet could not be sent: nothing to
		// retry, the client asks again.
		klog.FromContext(ctx).V(6).Info("DNS reply not sent", "err", err)
	}
}

// answer returns the response to req, before EDNS and truncation.
func (s *Server) answer(ctx context.Context, req *dns.Msg, tcp bool) *dns.Msg {
	if req.Opcode != dns.OpcodeQuery {
		return new(dns.Msg).SetRcode(req, dns.RcodeNotImplemented)
	}
	if len(req.Question) != 1 {
		return new(dns.Msg).SetRcode(req, dns.RcodeFormatError)
	}
	if opt := req.IsEdns0(); opt != nil && opt.Version() != 0 {
		return new(dns.Msg).SetRcode(req, dns.RcodeBadVers)
	}
	q := req.Question[0]
	name := strings.ToLower(dns.Fqdn(q.Name))
	logger := klog.FromContext(ctx)
	if v := logger.V(6); v.Enabled() {
		v.Info("DNS query", "name", q.Name, "type", dns.TypeToString[q.Qtype], "tcp", tcp)
	}
	if q.Qtype == dns.TypeAXFR || q.Qtype == dns.TypeIXFR {
		return new(dns.Msg).SetRcode(req, dns.RcodeRefused)
	}
	inZone := subdomain(name, s.zone.origin)
	if (inZone || s.reverseName(name)) && q.Qclass != dns.ClassINET && q.Qclass != dns.ClassANY {
		return new(dns.Msg).SetRcode(req, dns.RcodeRefused)
	}
	if inZone {
		return s.authoritative(req, s.zone.lookup(ctx, q.Name, name, q.Qtype, tcp, 0), s.zone.origin)
	}
	if ip, ok := parseReverse(name); ok {
		if r, found := s.zone.reverse(q.Name, ip, q.Qtype); found {
			return s.authoritative(req, r, reverseZone(ip))
		}
	}
	if s.forwarder == nil {
		if s.reverseName(name) {
			// A network's name (10.in-addr.arpa., as resolvers that
			// minimize query names ask) exists above the addresses: NXDOMAIN
			// would deny the whole subtree.
			ip, ok := parseReverse(name)
			if !ok {
				return s.authoritative(req, nodata(), reverseZone(ip))
			}
			return s.authoritative(req, nxdomain(), reverseZone(ip))
		}
		return new(dns.Msg).SetRcode(req, dns.RcodeRefused)
	}
	resp, err := s.forwarder.exchange(ctx, req, tcp)
	if err != nil {
		logger.V(4).Info("DNS forward failed", "name", q.Name, "err", err)
		return new(dns.Msg).SetRcode(req, dns.RcodeServerFailure)
	}
	return resp
}

// reverseName tells whether name is under the reverse zones.
func (s *Server) reverseName(name string) bool {
	return subdomain(name, reverseV4) || subdomain(name, reverseV6)
}

// reverseZone is the reverse zone an address's PTR name is in; the zero
// address (a name that is not an address's) is put in in-addr.arpa.
func reverseZone(ip netip.Addr) string {
	if ip.Is6() {
		return reverseV6
	}
	return reverseV4
}

// authoritative turns a reply into an authoritative answer to req; a
// negative one (NXDOMAIN, or no record of the type) carries the SOA of
// origin so that resolvers cache the miss for no longer than the TTL.
func (s *Server) authoritative(req *dns.Msg, r reply, origin string) *dns.Msg {
	resp := new(dns.Msg).SetRcode(req, r.rcode)
	resp.Authoritative = true
	resp.RecursionAvailable = s.forwarder != nil
	resp.Answer, resp.Extra, resp.Truncated = r.answer, r.extra, r.truncated
	resp.Ns = r.authority
	if resp.Ns == nil && (r.rcode == dns.RcodeNameError || len(r.answer) == 0) {
		resp.Ns = []dns.RR{s.zone.soa(origin)}
	}
	return resp
}

// finish fits resp to what the client can take: EDNS answered with EDNS,
// and over UDP no more than the client's buffer (512 bytes without EDNS),
// dropping records and setting TC when the answer is larger, so that the
// client retries over TCP.
func finish(req, resp *dns.Msg, tcp bool) {
	size := dns.MinMsgSize
	if tcp {
		size = dns.MaxMsgSize
	}
	var upstreamOpt *dns.OPT
	extra := resp.Extra[:0]
	for _, rr := range resp.Extra {
		if opt, ok := rr.(*dns.OPT); ok {
			upstreamOpt = opt
			continue
		}
		extra = append(extra, rr)
	}
	resp.Extra = extra
	if opt := req.IsEdns0(); opt != nil {
		if !tcp {
			size = max(int(opt.UDPSize()), dns.MinMsgSize)
		}
		reply := upstreamOpt
		if reply == nil {
			reply = &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
		}
		reply.SetVersion(0)
		reply.SetUDPSize(ednsSize)
		resp.Extra = append(resp.Extra, reply)
	}
	if resp.Rcode > 0xF && req.IsEdns0() == nil {
		// An upstream's extended rcode cannot reach a client without EDNS.
		resp.Rcode = dns.RcodeServerFailure
	}
	resp.Compress = true
	resp.Truncate(size)
}

// nameserverIPs are the addresses of ns.dns.<domain>: the specified
// addresses the server listens on.
func nameserverIPs(o *Options) []netip.Addr {
	var ips []netip.Addr
	add := func(s string) {
		if ap, err := netip.ParseAddrPort(s); err == nil && !ap.Addr().IsUnspecified() {
			ips = append(ips, ap.Addr().Unmap())
		}
	}
	for _, a := range o.Addresses {
		add(a)
	}
	for _, pc := range o.PacketConns {
		add(pc.LocalAddr().String())
	}
	return ips
}
