package pki

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Options says where the cluster's certificates live and which names the API
// server's serving certificate must carry. Zero fields take the defaults
// below.
type Options struct {
	// Dir holds the PEM files; created with mode 0700 if missing. Required.
	// tug server uses <data-dir>/server/tls.
	Dir string
	// ServiceIP is the ClusterIP of the `kubernetes` Service, the first
	// address of the service CIDR; pods reach the API server through it.
	// Default 10.43.0.1.
	ServiceIP net.IP
	// ExtraSANs are further host names or IP addresses for the serving
	// certificate, for example a load balancer in front of the servers.
	// Host names may start with a "*." wildcard. Default none.
	ExtraSANs []string
	// ClusterDomain is the DNS domain of the cluster; the serving certificate
	// names kubernetes.default.svc.<ClusterDomain>. Default cluster.local.
	ClusterDomain string
}

var defaultServiceIP = net.IPv4(10, 43, 0, 1)

const defaultClusterDomain = "cluster.local"

func (o Options) withDefaults() Options {
	if o.ServiceIP == nil {
		o.ServiceIP = defaultServiceIP
	}
	if o.ClusterDomain == "" {
		o.ClusterDomain = defaultClusterDomain
	}
	return o
}

// Validate reports options that cannot work.
func (o Options) Validate() error {
	var errs []error
	if o.Dir == "" {
		errs = append(errs, errors.New("pki: Dir is required"))
	}
	if o.ServiceIP != nil && (len(o.ServiceIP) != net.IPv4len && len(o.ServiceIP) != net.IPv6len || o.ServiceIP.IsUnspecified()) {
		errs = append(errs, fmt.Errorf("pki: ServiceIP %q is not a usable IP address", o.ServiceIP.String()))
	}
	if o.ClusterDomain != "" {
		if msgs := validation.IsDNS1123Subdomain(o.ClusterDomain); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("pki: ClusterDomain %q: %s", o.ClusterDomain, strings.Join(msgs, "; ")))
		}
	}
	for _, san := range o.ExtraSANs {
		if err := validateSAN(san); err != nil {
			errs = append(errs, fmt.Errorf("pki: ExtraSANs: %w", err))
		}
	}
	return errors.Join(errs...)
}

// validateSAN accepts an IP address or a DNS name, optionally "*."-prefixed.
func validateSAN(san string) error {
	if net.ParseIP(san) != nil {
		return nil
	}
	name := strings.TrimPrefix(san, "*.")
	if msgs := validation.IsDNS1123Subdomain(strings.ToLower(name)); len(msgs) > 0 {
		return fmt.Errorf("%q is neither an IP address nor a DNS name: %s", san, strings.Join(msgs, "; "))
	}
	return nil
}
