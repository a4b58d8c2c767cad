package core

import (
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var (
	serviceTypes = []string{string(corev1.ServiceTypeClusterIP), string(corev1.ServiceTypeNodePort),
		string(corev1.ServiceTypeLoadBalancer), string(corev1.ServiceTypeExternalName)}
	affinities       = []string{string(corev1.ServiceAffinityNone), string(corev1.ServiceAffinityClientIP)}
	trafficPolicies  = []string{"Cluster", "Local"}
	ipFamilyPolicies = []string{string(corev1.IPFamilyPolicySingleStack), string(corev1.IPFamilyPolicyPreferDualStack),
		string(corev1.IPFamilyPolicyRequireDualStack)}
	ipFamilies = []string{string(corev1.IPv4Protocol), string(corev1.IPv6Protocol)}
)

// maxClientIPTimeout is a day, the longest ClientIP session stickiness.
const maxClientIPTimeout = 86400

// validateService validates a defaulted service.
func (s *serviceStrategy) validateService(svc *corev1.Service) field.ErrorList {
	spec := &svc.Spec
	p := field.NewPath("spec")
	errs := oneOf(p.Child("type"), string(spec.Type), serviceTypes)
	if spec.Type == corev1.ServiceTypeExternalName {
		name := strings.TrimSuffix(spec.ExternalName, ".")
		if name == "" {
			errs = append(errs, field.Required(p.Child("externalName"), ""))
		} else {
			errs = append(errs, dnsName(name, p.Child("externalName"), validation.IsDNS1123Subdomain)...)
		}
		if spec.ClusterIP != "" {
			errs = append(errs, field.Forbidden(p.Child("clusterIP"), "may not be set for ExternalName services"))
		}
	} else if len(spec.Ports) == 0 && spec.ClusterIP != corev1.ClusterIPNone {
		errs = append(errs, field.Required(p.Child("ports"), ""))
	}
	errs = append(errs, validateServicePorts(spec, p.Child("ports"))...)
	errs = append(errs, metav1validation.ValidateLabels(spec.Selector, p.Child("selector"))...)
	errs = append(errs, s.validateClusterIPs(spec, p)...)
	errs = append(errs, oneOf(p.Child("sessionAffinity"), string(spec.SessionAffinity), affinities)...)
	if spec.SessionAffinity == corev1.ServiceAffinityClientIP {
		if t := spec.SessionAffinityConfig.ClientIP.TimeoutSeconds; *t < 1 || *t > maxClientIPTimeout {
			errs = append(errs, field.Invalid(p.Child("sessionAffinityConfig", "clientIP", "timeoutSeconds"), *t,
				validation.InclusiveRangeError(1, maxClientIPTimeout)))
		}
	} else if spec.SessionAffinityConfig != nil {
		errs = append(errs, field.Forbidden(p.Child("sessionAffinityConfig"), "must not be set when `sessionAffinity` is None"))
	}
	if etp := spec.ExternalTrafficPolicy; etp != "" {
		errs = append(errs, oneOf(p.Child("externalTrafficPolicy"), string(etp), trafficPolicies)...)
		if !external(spec) && len(spec.ExternalIPs) == 0 {
			errs = append(errs, field.Invalid(p.Child("externalTrafficPolicy"), etp, "may only be set for externally-accessible services"))
		}
	}
	if itp := spec.InternalTrafficPolicy; itp != nil {
		errs = append(errs, oneOf(p.Child("internalTrafficPolicy"), string(*itp), trafficPolicies)...)
	}
	if spec.HealthCheckNodePort != 0 && !needsHealthCheckPort(spec) {
		errs = append(errs, field.Invalid(p.Child("healthCheckNodePort"), spec.HealthCheckNodePort,
			"may only be set when `type` is LoadBalancer and `externalTrafficPolicy` is Local"))
	}
	for i, ip := range spec.ExternalIPs {
		errs = append(errs, validation.IsValidIP(p.Child("externalIPs").Index(i), ip)...)
	}
	for i, cidr := range spec.LoadBalancerSourceRanges {
		errs = append(errs, validation.IsValidCIDR(p.Child("loadBalancerSourceRanges").Index(i), strings.TrimSpace(cidr))...)
	}
	return errs
}

func validateServicePorts(spec *corev1.ServiceSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := sets.New[string]()
	type portKey struct {
		port     int32
		protocol corev1.Protocol
	}
	seen := map[portKey]bool{}
	for i, port := range spec.Ports {
		ip := p.Index(i)
		switch {
		case port.Name == "" && len(spec.Ports) > 1:
			errs = append(errs, field.Required(ip.Child("name"), ""))
		case port.Name != "" && names.Has(port.Name):
			errs = append(errs, field.Duplicate(ip.Child("name"), port.Name))
		default:
			errs = append(errs, dnsName(port.Name, ip.Child("name"), validation.IsDNS1123Label)...)
		}
		names.Insert(port.Name)
		if portErrs := portNumber(port.Port, ip.Child("port")); len(portErrs) > 0 {
			// targetPort defaults to port: one error is enough.
			errs = append(errs, portErrs...)
		} else {
			errs = append(errs, namedPort(port.TargetPort, ip.Child("targetPort"))...)
		}
		errs = append(errs, oneOf(ip.Child("protocol"), string(port.Protocol), protocols)...)
		if k := (portKey{port.Port, port.Protocol}); seen[k] {
			errs = append(errs, field.Duplicate(ip, k))
		} else {
			seen[k] = true
		}
		if port.NodePort != 0 && !external(spec) {
			errs = append(errs, field.Forbidden(ip.Child("nodePort"), "may not be used when `type` is '"+string(spec.Type)+"'"))
		}
	}
	return errs
}

// validateClusterIPs checks the requested address and the IP families
// against what this single-stack cluster can serve.
func (s *serviceStrategy) validateClusterIPs(spec *corev1.ServiceSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if spec.ClusterIP != "" && spec.ClusterIP != corev1.ClusterIPNone {
		if _, err := netip.ParseAddr(spec.ClusterIP); err != nil {
			errs = append(errs, field.Invalid(p.Child("clusterIP"), spec.ClusterIP, "must be empty, 'None', or a valid IP address"))
		}
	}
	if len(spec.ClusterIPs) > 0 && spec.ClusterIPs[0] != spec.ClusterIP {
		errs = append(errs, field.Invalid(p.Child("clusterIPs").Index(0), spec.ClusterIPs[0], "must match `clusterIP`"))
	}
	if len(spec.ClusterIPs) > 1 {
		errs = append(errs, field.Invalid(p.Child("clusterIPs"), spec.ClusterIPs, "this cluster is not configured for dual-stack services"))
	}
	if spec.Type == corev1.ServiceTypeExternalName {
		return errs
	}
	headless := spec.ClusterIP == corev1.ClusterIPNone
	if pol := spec.IPFamilyPolicy; pol != nil {
		errs = append(errs, oneOf(p.Child("ipFamilyPolicy"), string(*pol), ipFamilyPolicies)...)
		if *pol == corev1.IPFamilyPolicyRequireDualStack && !headless {
			errs = append(errs, field.Invalid(p.Child("ipFamilyPolicy"), *pol, "this cluster is not configured for dual-stack services"))
		}
	}
	if len(spec.IPFamilies) > 2 {
		errs = append(errs, field.TooMany(p.Child("ipFamilies"), len(spec.IPFamilies), 2))
	}
	families := sets.New[corev1.IPFamily]()
	for i, f := range spec.IPFamilies {
		fp := p.Child("ipFamilies").Index(i)
		errs = append(errs, oneOf(fp, string(f), ipFamilies)...)
		if families.Has(f) {
			errs = append(errs, field.Duplicate(fp, f))
		}
		families.Insert(f)
		if !headless && f != s.family() {
			errs = append(errs, field.Invalid(fp, f, "not configured on this cluster"))
		}
	}
	return errs
}

// validateServiceUpdate checks what may not change: the cluster IP, unless
// the service becomes or stops being an ExternalName alias.
func validateServiceUpdate(svc, old *corev1.Service) field.ErrorList {
	if (!needsClusterIP(&old.Spec) && old.Spec.ClusterIP == "") || svc.Spec.Type == corev1.ServiceTypeExternalName {
		return nil
	}
	p := field.NewPath("spec")
	errs := apivalidation.ValidateImmutableField(svc.Spec.ClusterIP, old.Spec.ClusterIP, p.Child("clusterIP"))
	if len(errs) == 0 && len(old.Spec.ClusterIPs) > 0 && len(svc.Spec.ClusterIPs) > 0 {
		errs = append(errs, apivalidation.ValidateImmutableField(svc.Spec.ClusterIPs[0], old.Spec.ClusterIPs[0], p.Child("clusterIPs").Index(0))...)
	}
	return errs
}
