package core

import (
	"fmt"
	"math"
	"net/netip"
	"regexp"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var (
	restartPolicies = []string{string(corev1.RestartPolicyAlways), string(corev1.RestartPolicyOnFailure), string(corev1.RestartPolicyNever)}
	dnsPolicies     = []string{string(corev1.DNSClusterFirstWithHostNet), string(corev1.DNSClusterFirst), string(corev1.DNSDefault), string(corev1.DNSNone)}
	taintEffects    = []string{string(corev1.TaintEffectNoSchedule), string(corev1.TaintEffectPreferNoSchedule), string(corev1.TaintEffectNoExecute)}
)

// Limits of a pod's DNS configuration.
const (
	maxNameservers = 3
	maxDNSSearches = 32
)

// ValidatePodTemplateSpec validates a pod template: its labels,
// annotations and spec.
func ValidatePodTemplateSpec(t *corev1.PodTemplateSpec, path *field.Path) field.ErrorList {
	errs := metav1validation.ValidateLabels(t.Labels, path.Child("metadata", "labels"))
	errs = append(errs, apivalidation.ValidateAnnotations(t.Annotations, path.Child("metadata", "annotations"))...)
	return append(errs, ValidatePodSpec(&t.Spec, path.Child("spec"))...)
}

// ValidatePodSpec validates a defaulted pod spec, of a pod or a template,
// returning errors with paths under path.
func ValidatePodSpec(spec *corev1.PodSpec, path *field.Path) field.ErrorList {
	volumes, errs := validateVolumes(spec.Volumes, path.Child("volumes"))
	names := sets.New[string]()
	if len(spec.Containers) == 0 {
		errs = append(errs, field.Required(path.Child("containers"), ""))
	}
	for i := range spec.InitContainers {
		errs = append(errs, validateContainer(&spec.InitContainers[i], path.Child("initContainers").Index(i), containerContext{
			kind: initContainer, volumes: volumes, names: names, hostNetwork: spec.HostNetwork,
		})...)
	}
	for i := range spec.Containers {
		errs = append(errs, validateContainer(&spec.Containers[i], path.Child("containers").Index(i), containerContext{
			kind: regularContainer, volumes: volumes, names: names, hostNetwork: spec.HostNetwork,
		})...)
	}
	for i := range spec.EphemeralContainers {
		c := corev1.Container(spec.EphemeralContainers[i].EphemeralContainerCommon)
		errs = append(errs, validateContainer(&c, path.Child("ephemeralContainers").Index(i), containerContext{
			kind: ephemeralContainer, volumes: volumes, names: names,
		})...)
	}
	errs = append(errs, oneOf(path.Child("restartPolicy"), string(spec.RestartPolicy), restartPolicies)...)
	errs = append(errs, validateDNS(spec, path)...)
	if sc := spec.SecurityContext; sc != nil {
		errs = append(errs, validateSysctls(sc.Sysctls, path.Child("securityContext", "sysctls"))...)
	}
	errs = append(errs, metav1validation.ValidateLabels(spec.NodeSelector, path.Child("nodeSelector"))...)
	errs = append(errs, dnsName(spec.ServiceAccountName, path.Child("serviceAccountName"), validation.IsDNS1123Subdomain)...)
	errs = append(errs, dnsName(spec.NodeName, path.Child("nodeName"), validation.IsDNS1123Subdomain)...)
	errs = append(errs, dnsName(spec.PriorityClassName, path.Child("priorityClassName"), validation.IsDNS1123Subdomain)...)
	errs = append(errs, dnsName(spec.Hostname, path.Child("hostname"), validation.IsDNS1123Label)...)
	errs = append(errs, dnsName(spec.Subdomain, path.Child("subdomain"), validation.IsDNS1123Label)...)
	if d := spec.ActiveDeadlineSeconds; d != nil && (*d < 1 || *d > math.MaxInt32) {
		errs = append(errs, field.Invalid(path.Child("activeDeadlineSeconds"), *d, validation.InclusiveRangeError(1, math.MaxInt32)))
	}
	errs = append(errs, validateTolerations(spec.Tolerations, path.Child("tolerations"))...)
	for i, s := range spec.ImagePullSecrets {
		if s.Name == "" {
			errs = append(errs, field.Required(path.Child("imagePullSecrets").Index(i).Child("name"), ""))
		}
	}
	gates := sets.New[string]()
	for i, g := range spec.SchedulingGates {
		p := path.Child("schedulingGates").Index(i).Child("name")
		errs = append(errs, qualifiedName(g.Name, p)...)
		if gates.Has(g.Name) {
			errs = append(errs, field.Duplicate(p, g.Name))
		}
		gates.Insert(g.Name)
	}
	for i, a := range spec.HostAliases {
		if _, err := netip.ParseAddr(a.IP); err != nil {
			errs = append(errs, field.Invalid(path.Child("hostAliases").Index(i).Child("ip"), a.IP, "must be a valid IP address"))
		}
	}
	for i, g := range spec.ReadinessGates {
		errs = append(errs, qualifiedName(string(g.ConditionType), path.Child("readinessGates").Index(i).Child("conditionType"))...)
	}
	if spec.OS != nil {
		errs = append(errs, oneOf(path.Child("os", "name"), string(spec.OS.Name), []string{string(corev1.Linux), string(corev1.Windows)})...)
	}
	return errs
}

func validateDNS(spec *corev1.PodSpec, path *field.Path) field.ErrorList {
	errs := oneOf(path.Child("dnsPolicy"), string(spec.DNSPolicy), dnsPolicies)
	cfg := spec.DNSConfig
	if spec.DNSPolicy == corev1.DNSNone && (cfg == nil || len(cfg.Nameservers) == 0) {
		errs = append(errs, field.Required(path.Child("dnsConfig", "nameservers"), "must provide at least one nameserver when `dnsPolicy` is None"))
	}
	if cfg == nil {
		return errs
	}
	if len(cfg.Nameservers) > maxNameservers {
		errs = append(errs, field.TooMany(path.Child("dnsConfig", "nameservers"), len(cfg.Nameservers), maxNameservers))
	}
	for i, ns := range cfg.Nameservers {
		errs = append(errs, validation.IsValidIP(path.Child("dnsConfig", "nameservers").Index(i), ns)...)
	}
	if len(cfg.Searches) > maxDNSSearches {
		errs = append(errs, field.TooMany(path.Child("dnsConfig", "searches"), len(cfg.Searches), maxDNSSearches))
	}
	return errs
}

func validateTolerations(tolerations []corev1.Toleration, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, t := range tolerations {
		p := path.Index(i)
		if t.Key != "" {
			errs = append(errs, qualifiedName(t.Key, p.Child("key"))...)
		} else if t.Operator != corev1.TolerationOpExists {
			errs = append(errs, field.Invalid(p.Child("operator"), t.Operator, "must be Exists when `key` is empty (the toleration then matches every taint)"))
		}
		if t.TolerationSeconds != nil && t.Effect != corev1.TaintEffectNoExecute {
			errs = append(errs, field.Invalid(p.Child("effect"), t.Effect, "must be NoExecute when `tolerationSeconds` is set"))
		}
		switch t.Operator {
		case corev1.TolerationOpEqual, "":
			for _, msg := range validation.IsValidLabelValue(t.Value) {
				errs = append(errs, field.Invalid(p.Child("value"), t.Value, msg))
			}
		case corev1.TolerationOpExists:
			if t.Value != "" {
				errs = append(errs, field.Invalid(p.Child("operator"), t.Value, "value must be empty when `operator` is Exists"))
			}
		default:
			errs = append(errs, field.NotSupported(p.Child("operator"), t.Operator, []string{string(corev1.TolerationOpEqual), string(corev1.TolerationOpExists)}))
		}
		if t.Effect != "" {
			errs = append(errs, oneOf(p.Child("effect"), string(t.Effect), taintEffects)...)
		}
	}
	return errs
}

// oneOf returns Required when value is empty and NotSupported when it is
// not one of supported.
func oneOf(path *field.Path, value string, supported []string) field.ErrorList {
	if value == "" {
		return field.ErrorList{field.Required(path, "")}
	}
	for _, s := range supported {
		if value == s {
			return nil
		}
	}
	return field.ErrorList{field.NotSupported(path, value, supported)}
}

// dnsName validates an optional name with check, such as IsDNS1123Label.
func dnsName(name string, path *field.Path, check func(string) []string) field.ErrorList {
	if name == "" {
		return nil
	}
	var errs field.ErrorList
	for _, msg := range check(name) {
		errs = append(errs, field.Invalid(path, name, msg))
	}
	return errs
}

func qualifiedName(name string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsQualifiedName(name) {
		errs = append(errs, field.Invalid(path, name, msg))
	}
	return errs
}

// portNumber validates a port that must be set: 1-65535.
func portNumber(port int32, path *field.Path) field.ErrorList {
	if port == 0 {
		return field.ErrorList{field.Required(path, "")}
	}
	var errs field.ErrorList
	for _, msg := range validation.IsValidPortNum(int(port)) {
		errs = append(errs, field.Invalid(path, port, msg))
	}
	return errs
}

func nonNegative(v int64, path *field.Path) field.ErrorList {
	return apivalidation.ValidateNonnegativeField(v, path)
}

// fileMode validates a volume file mode, 0 to 0777.
func fileMode(mode *int32, path *field.Path) field.ErrorList {
	if mode == nil || (*mode >= 0 && *mode <= 0o777) {
		return nil
	}
	return field.ErrorList{field.Invalid(path, *mode, fmt.Sprintf("must be a number between 0 and 0777 (octal), both inclusive (%d decimal)", 0o777))}
}

// sysctlName is a kernel parameter name: dot- or slash-separated segments
// of lower-case letters, digits, '-' and '_' that start and end with a
// letter or digit.
var sysctlName = regexp.MustCompile(`^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$`)

// maxSysctlNameLength bounds a sysctl name.
const maxSysctlNameLength = 253

func validateSysctls(sysctls []corev1.Sysctl, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := sets.New[string]()
	for i, s := range sysctls {
		np := p.Index(i).Child("name")
		switch {
		case s.Name == "":
			errs = append(errs, field.Required(np, ""))
		case len(s.Name) > maxSysctlNameLength || !sysctlName.MatchString(s.Name):
			errs = append(errs, field.Invalid(np, s.Name, "must be a valid sysctl name: segments of lower-case alphanumerics, '-' or '_', separated by '.' or '/'"))
		case seen.Has(s.Name):
			errs = append(errs, field.Duplicate(np, s.Name))
		}
		seen.Insert(s.Name)
	}
	return errs
}
