package core

import (
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilnet "k8s.io/apimachinery/pkg/util/net"

	"github.com/tugcluster/tug/internal/apiserver/registry"
)

// Options configure the core/v1 strategies.
type Options struct {
	// ServiceCIDR is the range service cluster IPs come from: 2 to 20 host
	// bits. Default 10.43.0.0/16.
	ServiceCIDR netip.Prefix
	// NodePortRange is the range node ports come from. Default 30000-32767
	// (Base 30000, Size 2768).
	NodePortRange utilnet.PortRange
}

// Default values of Options.
var (
	DefaultServiceCIDR   = netip.MustParsePrefix("10.43.0.0/16")
	DefaultNodePortRange = utilnet.PortRange{Base: 30000, Size: 2768}
)

// withDefaults returns o with zero fields set to their defaults.
func (o Options) withDefaults() Options {
	if !o.ServiceCIDR.IsValid() {
		o.ServiceCIDR = DefaultServiceCIDR
	}
	if o.NodePortRange.Size == 0 {
		o.NodePortRange = DefaultNodePortRange
	}
	return o
}

// Strategies returns the strategies of the core/v1 resources that have
// rules of their own, and the Allocator of service cluster IPs and node
// ports, which the server must Sync with the stored services before it
// serves requests. Zero fields of opts take their defaults.
func Strategies(opts Options) (map[schema.GroupVersionResource]registry.Strategy, *Allocator, error) {
	opts = opts.withDefaults()
	alloc, err := NewAllocator(opts.ServiceCIDR, opts.NodePortRange)
	if err != nil {
		return nil, nil, fmt.Errorf("core strategies: %w", err)
	}
	gv := corev1.SchemeGroupVersion
	withStatus := registry.DefaultStrategy{HasStatus: true}
	plain := registry.DefaultStrategy{}
	return map[schema.GroupVersionResource]registry.Strategy{
		gv.WithResource("pods"):                   newPodStrategy(),
		gv.WithResource("services"):               newServiceStrategy(alloc),
		gv.WithResource("namespaces"):             newNamespaceStrategy(),
		gv.WithResource("nodes"):                  newNodeStrategy(),
		gv.WithResource("secrets"):                secretStrategy{plain},
		gv.WithResource("configmaps"):             configMapStrategy{plain},
		gv.WithResource("serviceaccounts"):        plain,
		gv.WithResource("events"):                 eventStrategy{plain},
		gv.WithResource("endpoints"):              endpointsStrategy{plain},
		gv.WithResource("persistentvolumeclaims"): pvcStrategy{withStatus},
		gv.WithResource("replicationcontrollers"): rcStrategy{withStatus},
		gv.WithResource("limitranges"):            limitRangeStrategy{plain},
		gv.WithResource("resourcequotas"):         quotaStrategy{withStatus},
		gv.WithResource("podtemplates"):           podTemplateStrategy{plain},
	}, alloc, nil
}
