package core

import (
	"context"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/apiserver/registry"
)

// defaultClientIPTimeout is three hours, the default stickiness of
// sessionAffinity ClientIP.
const defaultClientIPTimeout = int32(10800)

// serviceStrategy defaults and validates services and gives them cluster
// IPs and node ports from its Allocator.
//
// Allocation happens in Validate and ValidateUpdate, the last hooks before
// the write, so that an address already taken is a 422 like any other
// invalid field. What a write takes or gives up outside storage is settled
// afterwards by Committed and Aborted.
type serviceStrategy struct {
	registry.DefaultStrategy
	alloc *Allocator
}

var _ registry.Strategy = (*serviceStrategy)(nil)

func newServiceStrategy(alloc *Allocator) *serviceStrategy {
	return &serviceStrategy{DefaultStrategy: registry.DefaultStrategy{HasStatus: true}, alloc: alloc}
}

// family returns the cluster's IP family, that of its service CIDR.
func (s *serviceStrategy) family() corev1.IPFamily {
	if s.alloc.CIDR().Addr().Is6() {
		return corev1.IPv6Protocol
	}
	return corev1.IPv4Protocol
}

// Default implements registry.Strategy.
func (s *serviceStrategy) Default(obj runtime.Object) {
	svc, ok := obj.(*corev1.Service)
	if !ok {
		return
	}
	spec := &svc.Spec
	if spec.Type == "" {
		spec.Type = corev1.ServiceTypeClusterIP
	}
	if spec.SessionAffinity == "" {
		spec.SessionAffinity = corev1.ServiceAffinityNone
	}
	if spec.SessionAffinity == corev1.ServiceAffinityNone {
		// Its config means nothing without affinity; upstream clears it.
		spec.SessionAffinityConfig = nil
	}
	if spec.SessionAffinity == corev1.ServiceAffinityClientIP {
		if spec.SessionAffinityConfig == nil {
			spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{}
		}
		if spec.SessionAffinityConfig.ClientIP == nil {
			spec.SessionAffinityConfig.ClientIP = &corev1.ClientIPConfig{}
		}
		if spec.SessionAffinityConfig.ClientIP.TimeoutSeconds == nil {
			spec.SessionAffinityConfig.ClientIP.TimeoutSeconds = ptr.To(defaultClientIPTimeout)
		}
	}
	for i := range spec.Ports {
		p := &spec.Ports[i]
		if p.Protocol == "" {
			p.Protocol = corev1.ProtocolTCP
		}
		if p.TargetPort == (intstr.IntOrString{}) {
			p.TargetPort = intstr.FromInt32(p.Port)
		}
	}
	if external(spec) && spec.ExternalTrafficPolicy == "" {
		spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
	}
	if spec.Type == corev1.ServiceTypeLoadBalancer && spec.AllocateLoadBalancerNodePorts == nil {
		spec.AllocateLoadBalancerNodePorts = ptr.To(true)
	}
	if spec.Type == corev1.ServiceTypeExternalName {
		// An ExternalName service is a DNS alias: no address, no family.
		spec.IPFamilies, spec.IPFamilyPolicy, spec.InternalTrafficPolicy = nil, nil, nil
		return
	}
	if spec.InternalTrafficPolicy == nil {
		spec.InternalTrafficPolicy = ptr.To(corev1.ServiceInternalTrafficPolicyCluster)
	}
	if len(spec.ClusterIPs) == 0 && spec.ClusterIP != "" {
		spec.ClusterIPs = []string{spec.ClusterIP}
	}
	if spec.ClusterIP == "" && len(spec.ClusterIPs) > 0 {
		spec.ClusterIP = spec.ClusterIPs[0]
	}
	s.defaultFamilies(spec)
}

// defaultFamilies fills ipFamilyPolicy and ipFamilies. A headless service
// without a selector has its endpoints written by hand, of any family, so
// it gets both families; every other service gets the cluster's.
func (s *serviceStrategy) defaultFamilies(spec *corev1.ServiceSpec) {
	headlessManual := spec.ClusterIP == corev1.ClusterIPNone && len(spec.Selector) == 0
	if spec.IPFamilyPolicy == nil {
		policy := corev1.IPFamilyPolicySingleStack
		if headlessManual || len(spec.IPFamilies) > 1 {
			policy = corev1.IPFamilyPolicyRequireDualStack
		}
		spec.IPFamilyPolicy = &policy
	}
	if len(spec.IPFamilies) > 0 {
		return
	}
	first := s.family()
	if ip, err := netip.ParseAddr(spec.ClusterIP); err == nil && ip.Is6() {
		first = corev1.IPv6Protocol
	} else if err == nil {
		first = corev1.IPv4Protocol
	}
	spec.IPFamilies = []corev1.IPFamily{first}
	if *spec.IPFamilyPolicy != corev1.IPFamilyPolicySingleStack && headlessManual {
		other := corev1.IPv6Protocol
		if first == corev1.IPv6Protocol {
			other = corev1.IPv4Protocol
		}
		spec.IPFamilies = append(spec.IPFamilies, other)
	}
}

// PrepareForUpdate keeps status and carries over the cluster IP and node
// ports a client left out, as after kubectl apply of a manifest without
// them.
func (s *serviceStrategy) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	s.DefaultStrategy.PrepareForUpdate(ctx, obj, old)
	svc, ok := obj.(*corev1.Service)
	oldSvc, ok2 := old.(*corev1.Service)
	if ok && ok2 {
		carryAllocations(&svc.Spec, &oldSvc.Spec)
		dropTypeDependentFields(&svc.Spec, &oldSvc.Spec)
	}
}

// dropTypeDependentFields clears, as upstream does, what a change of type
// leaves without meaning, when the client left it as it was stored: the
// external traffic policy of a service no longer reachable through node
// ports, the health-check node port, and the load-balancer settings of a
// service that is no longer a LoadBalancer. A value the client changed
// stays, and validation judges it.
func dropTypeDependentFields(spec, old *corev1.ServiceSpec) {
	if external(old) && !external(spec) && spec.ExternalTrafficPolicy == old.ExternalTrafficPolicy {
		spec.ExternalTrafficPolicy = ""
	}
	if needsHealthCheckPort(old) && !needsHealthCheckPort(spec) && spec.HealthCheckNodePort == old.HealthCheckNodePort {
		spec.HealthCheckNodePort = 0
	}
	if old.Type == corev1.ServiceTypeLoadBalancer && spec.Type != corev1.ServiceTypeLoadBalancer {
		if ptr.Equal(spec.AllocateLoadBalancerNodePorts, old.AllocateLoadBalancerNodePorts) {
			spec.AllocateLoadBalancerNodePorts = nil
		}
		if ptr.Equal(spec.LoadBalancerClass, old.LoadBalancerClass) {
			spec.LoadBalancerClass = nil
		}
	}
}

// Validate validates a new service, then allocates its cluster IP and node
// ports.
func (s *serviceStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	svc, ok := obj.(*corev1.Service)
	if !ok {
		return wrongType(obj)
	}
	if errs := s.validateService(svc); len(errs) > 0 {
		return errs
	}
	return s.allocate(svc)
}

// ValidateUpdate validates an update, then allocates what the new spec
// needs that the old one did not hold.
func (s *serviceStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	svc, ok := obj.(*corev1.Service)
	oldSvc, ok2 := old.(*corev1.Service)
	if !ok || !ok2 {
		return wrongType(obj)
	}
	errs := s.validateService(svc)
	errs = append(errs, validateServiceUpdate(svc, oldSvc)...)
	if len(errs) > 0 {
		return errs
	}
	return s.allocate(svc)
}

// Committed is called after a service write reached storage, with the
// stored object (nil after a delete) and the one it replaced (nil after a
// create). It frees what old held and obj no longer does.
func (s *serviceStrategy) Committed(obj, old runtime.Object) {
	oldSvc, ok := old.(*corev1.Service)
	if !ok || oldSvc == nil {
		return
	}
	svc, _ := obj.(*corev1.Service)
	s.alloc.releaseExcept(oldSvc, svc)
}

// Aborted is called when a create or update that passed validation was not
// written (dry run, storage error, retry): it frees what obj took that old
// (nil on create) did not hold.
func (s *serviceStrategy) Aborted(obj, old runtime.Object) {
	svc, ok := obj.(*corev1.Service)
	if !ok || svc == nil {
		return
	}
	oldSvc, _ := old.(*corev1.Service)
	s.alloc.releaseExcept(svc, oldSvc)
}

// GetAttrs implements registry.Strategy.
func (s *serviceStrategy) GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	svc, ok := obj.(*corev1.Service)
	if !ok {
		return nil, nil, errWrongType(obj)
	}
	fs := metaFields(&svc.ObjectMeta, true)
	fs["spec.clusterIP"] = svc.Spec.ClusterIP
	fs["spec.type"] = string(svc.Spec.Type)
	return labels.Set(svc.Labels), fs, nil
}

// NameValidator implements registry.Strategy: a service's name is a
// DNS-1035 label, as it becomes a DNS name and an environment variable.
func (s *serviceStrategy) NameValidator() apivalidation.ValidateNameFunc {
	return apivalidation.NameIsDNS1035Label
}

// external reports whether the service is reachable from outside the
// cluster through node ports.
func external(spec *corev1.ServiceSpec) bool {
	return spec.Type == corev1.ServiceTypeNodePort || spec.Type == corev1.ServiceTypeLoadBalancer
}

// needsClusterIP reports whether a service has (or is to get) addresses.
func needsClusterIP(spec *corev1.ServiceSpec) bool {
	return spec.Type != corev1.ServiceTypeExternalName && spec.ClusterIP != corev1.ClusterIPNone
}

func needsNodePorts(spec *corev1.ServiceSpec) bool {
	if spec.Type == corev1.ServiceTypeLoadBalancer {
		return spec.AllocateLoadBalancerNodePorts == nil || *spec.AllocateLoadBalancerNodePorts
	}
	return spec.Type == corev1.ServiceTypeNodePort
}

func needsHealthCheckPort(spec *corev1.ServiceSpec) bool {
	return spec.Type == corev1.ServiceTypeLoadBalancer && spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal
}
