// Package networking holds the strategies of networking.k8s.io resources
// that differ from the generic one: IPAddress objects are named by the
// address they hold.
package networking

import (
	"net/netip"

	networkingv1 "k8s.io/api/networking/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tugcluster/tug/internal/apiserver/registry"
)

// ipAddressStrategy names IPAddresses by their IP in canonical form.
type ipAddressStrategy struct{ registry.DefaultStrategy }

// NameValidator implements registry.Strategy.
func (ipAddressStrategy) NameValidator() apivalidation.ValidateNameFunc { return ValidateIPAddressName }

// ValidateIPAddressName accepts an IPv4 or IPv6 address in canonical form.
func ValidateIPAddressName(name string, _ bool) []string {
	addr, err := netip.ParseAddr(name)
	switch {
	case err != nil:
		return []string{"must be a valid IP address"}
	case addr.Zone() != "":
		return []string{"must not have a zone"}
	case addr.String() != name:
		return []string{"must be in canonical form (" + addr.String() + ")"}
	}
	return nil
}

// Strategies returns the strategies of this group's resources.
func Strategies() map[schema.GroupVersionResource]registry.Strategy {
	return map[schema.GroupVersionResource]registry.Strategy{
		networkingv1.SchemeGroupVersion.WithResource("ipaddresses"): ipAddressStrategy{registry.DefaultStrategy{ClusterScoped: true}},
	}
}
