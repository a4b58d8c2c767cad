package core

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/tugcluster/tug/internal/apiserver/registry"
)

// endpointsStrategy defaults port protocols and validates addresses.
type endpointsStrategy struct{ registry.DefaultStrategy }

// Default implements registry.Strategy.
func (endpointsStrategy) Default(obj runtime.Object) {
	ep, ok := obj.(*corev1.Endpoints) //nolint:staticcheck // SA1019: Endpoints is still served
	if !ok {
		return
	}
	for i := range ep.Subsets {
		for j := range ep.Subsets[i].Ports {
			if ep.Subsets[i].Ports[j].Protocol == "" {
				ep.Subsets[i].Ports[j].Protocol = corev1.ProtocolTCP
			}
		}
	}
}

// Validate implements registry.Strategy.
func (endpointsStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	ep, ok := obj.(*corev1.Endpoints) //nolint:staticcheck // SA1019: Endpoints is still served
	if !ok {
		return wrongType(obj)
	}
	var errs field.ErrorList
	for i, ss := range ep.Subsets {
		sp := field.NewPath("subsets").Index(i)
		for j, a := range ss.Addresses {
			errs = append(errs, endpointAddress(a, sp.Child("addresses").Index(j))...)
		}
		for j, a := range ss.NotReadyAddresses {
			errs = append(errs, endpointAddress(a, sp.Child("notReadyAddresses").Index(j))...)
		}
		for j, port := range ss.Ports {
			pp := sp.Child("ports").Index(j)
			if len(ss.Ports) > 1 && port.Name == "" {
				errs = append(errs, field.Required(pp.Child("name"), ""))
			}
			errs = append(errs, portNumber(port.Port, pp.Child("port"))...)
			errs = append(errs, oneOf(pp.Child("protocol"), string(port.Protocol), protocols)...)
		}
	}
	return errs
}

func endpointAddress(a corev1.EndpointAddress, p *field.Path) field.ErrorList { //nolint:staticcheck // SA1019: Endpoints is still served
	errs := validation.IsValidIP(p.Child("ip"), a.IP)
	errs = append(errs, dnsName(a.Hostname, p.Child("hostname"), validation.IsDNS1123Label)...)
	return errs
}

// ValidateUpdate implements registry.Strategy.
func (s endpointsStrategy) ValidateUpdate(ctx context.Context, obj, _ runtime.Object) field.ErrorList {
	return s.Validate(ctx, obj)
}
