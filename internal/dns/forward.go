package dns

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/miekg/dns"
)

// errNoUpstream is returned by a forwarder without servers.
var errNoUpstream = errors.New("no upstream DNS server")

// forwarder sends queries for names outside the cluster to the node's
// resolvers, trying them in order until one answers.
type forwarder struct {
	upstreams []string // ip:port
	udp, tcp  *dns.Client
}

func newForwarder(upstreams []string, timeout time.Duration) *forwarder {
	return &forwarder{
		upstreams: upstreams,
		udp:       &dns.Client{Net: "udp", Timeout: timeout},
		tcp:       &dns.Client{Net: "tcp", Timeout: timeout},
	}
}

// servers returns the upstreams; none for a nil forwarder.
func (f *forwarder) servers() []string {
	if f == nil {
		return nil
	}
	return f.upstreams
}

// exchange forwards req over the transport the client used (a truncated
// UDP answer goes back truncated, and the client retries over TCP) and
// returns the first upstream's response, under req's ID.
func (f *forwarder) exchange(ctx context.Context, req *dns.Msg, tcp bool) (*dns.Msg, error) {
	if len(f.upstreams) == 0 {
		return nil, errNoUpstream
	}
	c := f.udp
	if tcp {
		c = f.tcp
	}
	m := req.Copy()
	// A fresh ID per upstream query, not the client's: an off-path
	// spoofer must guess it.
	m.Id = dns.Id()
	var errs []error
	for _, up := range f.upstreams {
		resp, _, err := c.ExchangeContext(ctx, m, up)
		if err == nil {
			resp.Id = req.Id
			return resp, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", up, err))
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("forward %s: %w", req.Question[0].Name, errors.Join(errs...))
}

// lookup asks the upstreams for name's records of qtype, recursively.
func (f *forwarder) lookup(ctx context.Context, name string, qtype uint16, tcp bool) (*dns.Msg, error) {
	m := new(dns.Msg).SetQuestion(name, qtype)
	m.SetEdns0(ednsSize, false)
	return f.exchange(ctx, m, tcp)
}
