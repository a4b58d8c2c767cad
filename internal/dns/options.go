package dns

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"
)

// PodMode says how the server answers <a-b-c-d>.<ns>.pod.<domain> names.
type PodMode string

// The pod modes, named as CoreDNS's kubernetes plugin names them so that
// operators meet familiar words.
const (
	// PodsInsecure answers any well-formed address in an existing
	// namespace without looking for the pod: what the Kubernetes DNS
	// specification requires and what kubeadm and k3s configure.
	PodsInsecure PodMode = "insecure"
	// PodsVerified answers only when a pod with that address exists in the
	// namespace; it costs a (slim) pod informer.
	PodsVerified PodMode = "verified"
	// PodsDisabled answers NXDOMAIN for every pod name.
	PodsDisabled PodMode = "disabled"
)

// Defaults of Options.
const (
	DefaultDomain         = "cluster.local"
	DefaultTTL            = 5 * time.Second
	DefaultResolvConf     = "/etc/resolv.conf"
	DefaultForwardTimeout = 2 * time.Second
)

// Options configure a Server.
type Options struct {
	// Domain is the cluster domain the server is authoritative for.
	// Default "cluster.local".
	Domain string
	// Addresses are host:port pairs the server listens on, with UDP and
	// TCP each (e.g. "10.43.0.10:53"). Default none: then PacketConns or
	// Listeners must be given.
	Addresses []string
	// PacketConns and Listeners are sockets already bound (tests bind
	// 127.0.0.1:0 and read the port) that the server serves on as well as
	// Addresses. The server closes them when Run returns. Default none.
	PacketConns []net.PacketConn
	Listeners   []net.Listener
	// Upstreams are the DNS servers (host or host:port, port 53 by
	// default) that names outside the domain, and reverse names the
	// cluster does not know, are forwarded to, tried in order. Default:
	// the nameservers of ResolvConf, without the server's own addresses.
	Upstreams []string
	// ResolvConf is the file the default Upstreams are read from. Default
	// /etc/resolv.conf.
	ResolvConf string
	// DisableForwarding answers REFUSED for names outside the domain
	// instead of forwarding them; Upstreams and ResolvConf are then
	// ignored. Default false.
	DisableForwarding bool
	// ForwardTimeout bounds the wait for one upstream's answer. Default 2s.
	ForwardTimeout time.Duration
	// TTL is the time to live of every answer from the cluster, and the
	// negative-caching TTL of its SOA. Default 5s, as CoreDNS's kubernetes
	// plugin.
	TTL time.Duration
	// Pods says how pod names are answered. Default PodsInsecure.
	Pods PodMode
	// Client is used to build the informers the server answers from.
	// Exactly one of Client and Store is required.
	Client kubernetes.Interface
	// Store replaces the informers (tests and benchmarks: NewStore).
	Store Store
}

// complete fills the defaults, reading ResolvConf when Upstreams is empty.
func (o *Options) complete() error {
	if o.Domain == "" {
		o.Domain = DefaultDomain
	}
	o.Domain = strings.ToLower(strings.TrimSuffix(o.Domain, "."))
	if o.TTL == 0 {
		o.TTL = DefaultTTL
	}
	if o.ForwardTimeout == 0 {
		o.ForwardTimeout = DefaultForwardTimeout
	}
	if o.Pods == "" {
		o.Pods = PodsInsecure
	}
	if o.ResolvConf == "" {
		o.ResolvConf = DefaultResolvConf
	}
	if o.DisableForwarding {
		o.Upstreams = nil
		return nil
	}
	if len(o.Upstreams) == 0 {
		servers, err := readNameservers(o.ResolvConf)
		if err != nil {
			return err
		}
		o.Upstreams = servers
	}
	ups := make([]string, 0, len(o.Upstreams))
	for _, u := range o.Upstreams {
		addr, err := upstreamAddr(u)
		if err != nil {
			return err
		}
		// Forwarding to ourselves would loop until the timeout.
		if !o.ownAddress(addr) {
			ups = append(ups, addr)
		}
	}
	o.Upstreams = ups
	return nil
}

// Validate reports options that cannot work, once their defaults are
// filled as New fills them.
func (o *Options) Validate() error {
	switch {
	case (o.Client == nil) == (o.Store == nil):
		return errors.New("exactly one of Client and Store is required")
	case len(o.Addresses)+len(o.PacketConns)+len(o.Listeners) == 0:
		return errors.New("no address to serve on")
	case o.TTL < time.Second || o.TTL > 24*time.Hour:
		return fmt.Errorf("TTL %s must be between 1s and 24h", o.TTL)
	case o.ForwardTimeout <= 0:
		return errors.New("ForwardTimeout must be positive")
	case o.Pods != PodsInsecure && o.Pods != PodsVerified && o.Pods != PodsDisabled:
		return fmt.Errorf("pod mode %q: want %q, %q or %q", o.Pods, PodsInsecure, PodsVerified, PodsDisabled)
	}
	if errs := validation.IsDNS1123Subdomain(o.Domain); len(errs) > 0 {
		return fmt.Errorf("domain %q: %s", o.Domain, strings.Join(errs, "; "))
	}
	for _, a := range o.Addresses {
		if _, err := netip.ParseAddrPort(a); err != nil {
			return fmt.Errorf("address %q: %w", a, err)
		}
	}
	return nil
}

// ownAddress tells whether addr (ip:port) is one the server listens on.
func (o *Options) ownAddress(addr string) bool {
	for _, a := range o.Addresses {
		if a == addr {
			return true
		}
	}
	for _, pc := range o.PacketConns {
		if pc.LocalAddr().String() == addr {
			return true
		}
	}
	return false
}

// upstreamAddr turns "1.2.3.4", "fd00::1" or "1.2.3.4:5353" into ip:port.
func upstreamAddr(s string) (string, error) {
	if ip, err := netip.ParseAddr(s); err == nil {
		return netip.AddrPortFrom(ip.Unmap(), 53).String(), nil
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return "", fmt.Errorf("upstream %q: want an IP address with an optional port", s)
	}
	return ap.String(), nil
}

// readNameservers returns the nameserver lines of a resolv.conf file; a
// missing file means none, as for the C library.
func readNameservers(path string) ([]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read upstreams: %w", err)
	}
	defer func() { _ = f.Close() }()
	var servers []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "nameserver" {
			// Skip what is not an address, as the C library does.
			ip, err := netip.ParseAddr(fields[1])
			if err != nil {
				continue
			}
			servers = append(servers, ip.String())
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read upstreams from %s: %w", path, err)
	}
	return servers, nil
}
