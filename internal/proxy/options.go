package proxy

import (
	"errors"
	"net/netip"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/tugcluster/tug/internal/proxy/nft"
)

// Options configure a Proxy.
type Options struct {
	// Client watches Services and EndpointSlices. Required.
	Client kubernetes.Interface
	// NodeName is this node's name: endpoints on it are local, for the
	// Local traffic policies. Required.
	NodeName string
	// NodeIPs are the node's addresses; NodePorts answer on them and on
	// every other local address except loopback. Default none.
	NodeIPs []netip.Addr
	// ClusterCIDRs are the pod network's prefixes: cluster IP traffic from
	// outside them is masqueraded. Default none (see MasqueradeAll).
	ClusterCIDRs []netip.Prefix
	// ServiceCIDRs are the prefixes cluster IPs come from: a connection to
	// an address or port in them that no Service has is refused at once.
	// Default none: such traffic is routed like any other.
	ServiceCIDRs []netip.Prefix
	// MasqueradeAll masquerades all cluster IP traffic, pods' included.
	// Default false.
	MasqueradeAll bool
	// MinSyncPeriod is the least time between two syncs: the first change
	// after a quiet spell is applied at once, and changes arriving within
	// the period are applied together at its end. Default 10ms.
	MinSyncPeriod time.Duration
	// RetryPeriod is the wait before retrying a failed sync, which then
	// rebuilds the table. Default 1s.
	RetryPeriod time.Duration
	// Table is the name of the nftables table (family ip) the proxy owns.
	// Default "tug".
	Table string
	// NetNSFd is an open file descriptor of the network namespace whose
	// rules the proxy writes. Default 0: the agent's own namespace.
	NetNSFd int
}

// Defaults of Options.
const (
	DefaultMinSyncPeriod = 10 * time.Millisecond
	DefaultRetryPeriod   = time.Second
)

func (o *Options) setDefaults() {
	if o.MinSyncPeriod == 0 {
		o.MinSyncPeriod = DefaultMinSyncPeriod
	}
	if o.RetryPeriod == 0 {
		o.RetryPeriod = DefaultRetryPeriod
	}
	if o.Table == "" {
		o.Table = nft.DefaultTable
	}
}

// Validate reports options that cannot work.
func (o *Options) Validate() error {
	switch {
	case o.Client == nil:
		return errors.New("proxy: a client is required")
	case o.NodeName == "":
		return errors.New("proxy: the node name is required")
	case o.MinSyncPeriod < 0, o.RetryPeriod < 0:
		return errors.New("proxy: sync periods must not be negative")
	case o.NetNSFd < 0:
		return errors.New("proxy: NetNSFd must not be negative")
	}
	return nil
}
