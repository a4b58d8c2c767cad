package core

import (
	"fmt"
	"reflect"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var hostPathTypes = []string{
	string(corev1.HostPathUnset), string(corev1.HostPathDirectoryOrCreate), string(corev1.HostPathDirectory),
	string(corev1.HostPathFileOrCreate), string(corev1.HostPathFile), string(corev1.HostPathSocket),
	string(corev1.HostPathCharDev), string(corev1.HostPathBlockDev),
}

// volumeSourceCount returns how many sources a volume names; it must be
// exactly one. Every field of VolumeSource is a pointer to one source.
func volumeSourceCount(s *corev1.VolumeSource) int {
	v := reflect.ValueOf(s).Elem()
	n := 0
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.Pointer && !f.IsNil() {
			n++
		}
	}
	return n
}

// validateVolumes validates a pod's volumes and returns their names.
func validateVolumes(volumes []corev1.Volume, p *field.Path) (sets.Set[string], field.ErrorList) {
	var errs field.ErrorList
	names := sets.New[string]()
	for i := range volumes {
		v := &volumes[i]
		ip := p.Index(i)
		switch {
		case v.Name == "":
			errs = append(errs, field.Required(ip.Child("name"), ""))
		case names.Has(v.Name):
			errs = append(errs, field.Duplicate(ip.Child("name"), v.Name))
		default:
			errs = append(errs, dnsName(v.Name, ip.Child("name"), validation.IsDNS1123Label)...)
		}
		names.Insert(v.Name)
		switch volumeSourceCount(&v.VolumeSource) {
		case 0:
			errs = append(errs, field.Required(ip, "must specify a volume type"))
		case 1:
			errs = append(errs, validateVolumeSource(&v.VolumeSource, ip)...)
		default:
			errs = append(errs, field.Forbidden(ip, "may not specify more than 1 volume type"))
		}
	}
	return names, errs
}

func validateVolumeSource(s *corev1.VolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch {
	case s.HostPath != nil:
		if s.HostPath.Path == "" {
			errs = append(errs, field.Required(p.Child("hostPath", "path"), ""))
		}
		if t := s.HostPath.Type; t != nil && *t != corev1.HostPathUnset {
			errs = append(errs, oneOf(p.Child("hostPath", "type"), string(*t), hostPathTypes)...)
		}
	case s.EmptyDir != nil:
		if l := s.EmptyDir.SizeLimit; l != nil && l.Sign() < 0 {
			errs = append(errs, field.Invalid(p.Child("emptyDir", "sizeLimit"), l.String(), "must be greater than or equal to 0"))
		}
	case s.Secret != nil:
		if s.Secret.SecretName == "" {
			errs = append(errs, field.Required(p.Child("secret", "secretName"), ""))
		}
		errs = append(errs, fileMode(s.Secret.DefaultMode, p.Child("secret", "defaultMode"))...)
		errs = append(errs, validateKeyToPaths(s.Secret.Items, p.Child("secret", "items"))...)
	case s.ConfigMap != nil:
		if s.ConfigMap.Name == "" {
			errs = append(errs, field.Required(p.Child("configMap", "name"), ""))
		}
		errs = append(errs, fileMode(s.ConfigMap.DefaultMode, p.Child("configMap", "defaultMode"))...)
		errs = append(errs, validateKeyToPaths(s.ConfigMap.Items, p.Child("configMap", "items"))...)
	case s.PersistentVolumeClaim != nil:
		if s.PersistentVolumeClaim.ClaimName == "" {
			errs = append(errs, field.Required(p.Child("persistentVolumeClaim", "claimName"), ""))
		}
	case s.DownwardAPI != nil:
		errs = append(errs, fileMode(s.DownwardAPI.DefaultMode, p.Child("downwardAPI", "defaultMode"))...)
		for i, item := range s.DownwardAPI.Items {
			ip := p.Child("downwardAPI", "items").Index(i)
			if item.Path == "" {
				errs = append(errs, field.Required(ip.Child("path"), ""))
			}
			errs = append(errs, relativePath(item.Path, ip.Child("path"))...)
		}
	case s.Projected != nil:
		errs = append(errs, fileMode(s.Projected.DefaultMode, p.Child("projected", "defaultMode"))...)
		for i, src := range s.Projected.Sources {
			n := countSet(src.Secret != nil, src.ConfigMap != nil, src.DownwardAPI != nil,
				src.ServiceAccountToken != nil, src.ClusterTrustBundle != nil, src.PodCertificate != nil)
			if n != 1 {
				errs = append(errs, field.Invalid(p.Child("projected", "sources").Index(i), "", "must specify exactly one projection source"))
			}
			if pc := src.PodCertificate; pc != nil && pc.MaxExpirationSeconds != nil {
				errs = append(errs, podCertificateExpiry(*pc.MaxExpirationSeconds,
					p.Child("projected", "sources").Index(i).Child("podCertificate", "maxExpirationSeconds"))...)
			}
		}
	}
	return errs
}

// Bounds of a pod certificate's lifetime: one hour to 91 days.
const (
	minPodCertificateSeconds = 3600
	maxPodCertificateSeconds = 91 * 24 * 3600
)

func podCertificateExpiry(seconds int32, p *field.Path) field.ErrorList {
	switch {
	case seconds < minPodCertificateSeconds:
		return field.ErrorList{field.Invalid(p, seconds, fmt.Sprintf("if provided, maxExpirationSeconds must be >= %d", minPodCertificateSeconds))}
	case seconds > maxPodCertificateSeconds:
		return field.ErrorList{field.Invalid(p, seconds, fmt.Sprintf("if provided, maxExpirationSeconds must be <= %d", maxPodCertificateSeconds))}
	}
	return nil
}

func validateKeyToPaths(items []corev1.KeyToPath, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, item := range items {
		ip := p.Index(i)
		if item.Key == "" {
			errs = append(errs, field.Required(ip.Child("key"), ""))
		}
		if item.Path == "" {
			errs = append(errs, field.Required(ip.Child("path"), ""))
		}
		errs = append(errs, relativePath(item.Path, ip.Child("path"))...)
		errs = append(errs, fileMode(item.Mode, ip.Child("mode"))...)
	}
	return errs
}
