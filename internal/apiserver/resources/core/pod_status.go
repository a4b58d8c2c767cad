package core

import (
	"context"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// syncPodIPs keeps status.podIP and status.podIPs in step, as Kubernetes
// does when it reads a pod: podIP wins when the two disagree (older
// clients write only podIP), and a list without it is topped by its first
// entry.
func syncPodIPs(status *corev1.PodStatus) {
	switch {
	case status.PodIP != "" && (len(status.PodIPs) == 0 || status.PodIPs[0].IP != status.PodIP):
		status.PodIPs = []corev1.PodIP{{IP: status.PodIP}}
	case status.PodIP == "" && len(status.PodIPs) > 0:
		status.PodIP = status.PodIPs[0].IP
	}
}

// ValidateStatusUpdate implements registry.StatusValidator: a status write
// leaves the spec as stored, so only the status is checked.
func (podStrategy) ValidateStatusUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	pod, ok := obj.(*corev1.Pod)
	oldPod, ok2 := old.(*corev1.Pod)
	if !ok || !ok2 {
		return wrongType(obj)
	}
	path := field.NewPath("status")
	status := &pod.Status
	errs := validateIPFamilies(addresses(status.PodIPs), path.Child("podIPs"))
	hostIPs := addresses(status.HostIPs)
	errs = append(errs, validateIPFamilies(hostIPs, path.Child("hostIPs"))...)
	if len(hostIPs) > 0 && hostIPs[0] != status.HostIP {
		errs = append(errs, field.Invalid(path.Child("hostIPs").Index(0).Child("ip"), hostIPs[0], "must be equal to `hostIP`"))
	}
	for i, c := range status.Conditions {
		// Kubernetes names the field by its Go name here.
		errs = append(errs, qualifiedName(string(c.Type), path.Child("conditions").Index(i).Child("Type"))...)
	}
	if nominated := status.NominatedNodeName; nominated != "" {
		errs = append(errs, dnsName(nominated, path.Child("nominatedNodeName"), validation.IsDNS1123Subdomain)...)
		if pod.Spec.NodeName != "" && nominated != oldPod.Status.NominatedNodeName {
			errs = append(errs, field.Forbidden(path.Child("nominatedNodeName"), "may not be set on pods that are already bound to a node"))
		}
	}
	return errs
}

// addresses lists the IP of each entry of status.podIPs or hostIPs (the
// two types are the same struct).
func addresses[T corev1.PodIP | corev1.HostIP](list []T) []string {
	out := make([]string, len(list))
	for i, a := range list {
		out[i] = corev1.PodIP(a).IP
	}
	return out
}

// validateIPFamilies checks a list of addresses: each valid, at most one
// of each family. The list in the message is printed as Kubernetes prints
// it, with the field named IP.
func validateIPFamilies(ips []string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, ip := range ips {
		errs = append(errs, validation.IsValidIP(path.Index(i), ip)...)
	}
	if len(errs) > 0 || len(ips) < 2 {
		return errs
	}
	seen := map[bool]bool{} // by is-IPv4
	for _, ip := range ips {
		addr, err := netip.ParseAddr(ip)
		if err != nil {
			continue
		}
		v4 := addr.Unmap().Is4()
		if seen[v4] {
			printed := make([]struct{ IP string }, len(ips))
			for i, ip := range ips {
				printed[i].IP = ip
			}
			return field.ErrorList{field.Invalid(path, printed, "may specify no more than one IP for each IP family")}
		}
		seen[v4] = true
	}
	return nil
}
