// Package nft programs a node's Service rules into the kernel's nftables:
// Syncer.Sync makes one table match a snapshot of Services and their
// endpoints, in one netlink transaction per sync, rewriting only the chains,
// sets and map elements of the Services that changed.
//
// The table follows the layout of kube-proxy's nftables mode: verdict maps
// keyed by address, protocol and port send new connections to one chain per
// Service port; a mark asks for masquerading on the way out; maps of
// Services without endpoints reject in filter chains. How an endpoint is
// picked differs, for the kernel's sake at 10,000 Services:
//
//   - One rule per Service port draws "numgen random mod n offset k" and
//     DNATs through one of 64 shared service-endpoints maps, which hold the
//     port's n endpoints at keys k to k+n-1. A pod replaced is two changed
//     elements and no rule; no chain or set per endpoint exists.
//   - No anonymous or per-Service sets: the kernel finds a set by walking a
//     list (a set made in the same transaction by walking the transaction),
//     which made a full sync quadratic.
//   - Hairpin traffic is found in postrouting by a set of endpoint
//     addresses instead of a rule per endpoint.
//   - Session affinity does use a chain and a dynamic set per endpoint, as
//     kube-proxy does, picked with "numgen random mod k == 0" rules.
//
// Cost of a sync: a transaction that adds a rule with NAT, a mark or a jump
// makes the kernel validate every rule reachable from the base chains, and
// a rule that starts using a map is checked against the map's elements;
// rules per Service and shards keep both small. bench/proxy measures it.
//
// Conntrack: when a UDP Service loses an endpoint, entries DNATed to it
// stay until they time out, so a client that keeps sending keeps reaching
// the old address. kube-proxy deletes them; this package does not yet.
package nft

import (
	"cmp"
	"net/netip"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// State is a snapshot of the Services the node proxies.
type State struct {
	// Services by "namespace/name". Headless and ExternalName Services get
	// no rules and belong out of the map.
	//
	// Sync compares each Service with the previous snapshot's under the
	// same key, by pointer first and by value only when the pointers
	// differ: a caller that keeps an unchanged Service's pointer across
	// snapshots makes a sync cost little more than the map's length. Sync
	// keeps the pointers, so a Service must not be mutated once handed to
	// Sync; replace it instead.
	Services map[string]*Service
}

// Service is what the rules need of a Service and its EndpointSlices.
type Service struct {
	// Namespace and Name name the Service; chain names carry them.
	Namespace, Name string
	// ClusterIPs are spec.clusterIPs. Addresses of a family the table does
	// not serve are ignored, so both families can be listed.
	ClusterIPs []netip.Addr
	// ExternalIPs are spec.externalIPs.
	ExternalIPs []netip.Addr
	// LoadBalancerIPs are status.loadBalancer.ingress[].ip.
	LoadBalancerIPs []netip.Addr
	// AffinityTimeout is the idle time after which a client's affinity to
	// an endpoint expires, for sessionAffinity ClientIP; zero means no
	// session affinity.
	AffinityTimeout time.Duration
	// InternalLocal is internalTrafficPolicy Local: cluster IP traffic only
	// goes to endpoints on this node.
	InternalLocal bool
	// ExternalLocal is externalTrafficPolicy Local: NodePort, external IP
	// and load-balancer traffic from outside only goes to endpoints on this
	// node and keeps its source address.
	ExternalLocal bool
	// Ports are the Service's ports with their endpoints.
	Ports []Port
}

// Port is one Service port and the endpoints behind it.
type Port struct {
	// Name is the port's name, unique within the Service ("" when it has
	// one unnamed port).
	Name string
	// Protocol is TCP, UDP or SCTP.
	Protocol corev1.Protocol
	// Port is the Service port, on cluster, external and load-balancer IPs.
	Port uint16
	// NodePort is the port on the node's addresses; zero for none.
	NodePort uint16
	// Endpoints are the port's endpoints, in any order.
	Endpoints []Endpoint
}

// Endpoint is one address and port an EndpointSlice lists for a Service
// port.
type Endpoint struct {
	// Addr and Port are where traffic is DNATed to.
	Addr netip.Addr
	Port uint16
	// Ready, Serving and Terminating are the EndpointSlice conditions, with
	// the API's meaning for unset ones already applied (ready and serving
	// when unknown, not terminating).
	Ready, Serving, Terminating bool
	// NodeName is the node the endpoint runs on; the Local traffic policies
	// compare it with the Syncer's node.
	NodeName string
}

// Equal reports whether s and o describe the same rules.
func (s *Service) Equal(o *Service) bool {
	if s == o {
		return true
	}
	if s == nil || o == nil {
		return false
	}
	return s.Namespace == o.Namespace && s.Name == o.Name &&
		slices.Equal(s.ClusterIPs, o.ClusterIPs) && slices.Equal(s.ExternalIPs, o.ExternalIPs) &&
		slices.Equal(s.LoadBalancerIPs, o.LoadBalancerIPs) && s.AffinityTimeout == o.AffinityTimeout &&
		s.InternalLocal == o.InternalLocal && s.ExternalLocal == o.ExternalLocal &&
		slices.EqualFunc(s.Ports, o.Ports, func(a, b Port) bool {
			return a.Name == b.Name && a.Protocol == b.Protocol && a.Port == b.Port &&
				a.NodePort == b.NodePort && slices.Equal(a.Endpoints, b.Endpoints)
		})
}

// usableEndpoints returns the endpoints traffic may go to among those keep
// accepts, sorted: the ready ones, or, when none is ready, the serving ones
// that are terminating, so that connections still reach a Service whose
// pods are all shutting down (as kube-proxy does).
func usableEndpoints(eps []Endpoint, keep func(Endpoint) bool) []Endpoint {
	var ready, terminating []Endpoint
	for _, ep := range eps {
		switch {
		case !keep(ep):
		case ep.Ready:
			ready = append(ready, ep)
		case ep.Serving && ep.Terminating:
			terminating = append(terminating, ep)
		}
	}
	out := ready
	if len(out) == 0 {
		out = terminating
	}
	slices.SortFunc(out, func(a, b Endpoint) int {
		if c := a.Addr.Compare(b.Addr); c != 0 {
			return c
		}
		return cmp.Compare(a.Port, b.Port)
	})
	// The same address and port may be listed by two slices while the
	// controller moves it; it is one endpoint.
	return slices.CompactFunc(out, func(a, b Endpoint) bool { return a.Addr == b.Addr && a.Port == b.Port })
}
