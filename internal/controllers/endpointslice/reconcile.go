package endpointslice

import (
	"maps"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/controllers/endpoints"
)

// Labels the controller puts on its slices, as upstream names them.
const (
	LabelServiceName = discoveryv1.LabelServiceName
	LabelManagedBy   = discoveryv1.LabelManagedBy
	ManagedBy        = "endpointslice-controller.k8s.io"
)

// Plan is what to write to bring a service's slices in line.
type Plan struct {
	Create, Update, Delete []*discoveryv1.EndpointSlice
}

// Reconcile plans the writes that turn existing (the service's slices,
// not to be modified) into desired with little churn: an endpoint stays in
// the slice that holds it, slices are updated in place, and new endpoints
// fill the free room of existing slices before new slices are made. A
// service without endpoints keeps one empty placeholder slice.
func Reconcile(svc *corev1.Service, desired map[string]*PortSet, existing []*discoveryv1.EndpointSlice) Plan {
	var plan Plan
	labels := sliceLabels(svc)
	total := 0
	for _, set := range desired {
		total += len(set.endpoints)
	}
	byKey := map[string][]*discoveryv1.EndpointSlice{}
	for _, s := range existing {
		byKey[portsKey(s.Ports)] = append(byKey[portsKey(s.Ports)], s)
	}
	if total == 0 {
		return placeholder(svc, labels, existing)
	}
	for key, slices := range byKey {
		if set := desired[key]; set == nil || len(set.endpoints) == 0 {
			plan.Delete = append(plan.Delete, slices...)
		}
	}
	for key, set := range desired {
		if len(set.endpoints) == 0 {
			continue
		}
		p := reconcileSet(svc, labels, set, byKey[key])
		plan.Create = append(plan.Create, p.Create...)
		plan.Update = append(plan.Update, p.Update...)
		plan.Delete = append(plan.Delete, p.Delete...)
	}
	return plan
}

// reconcileSet plans the slices of one port set.
func reconcileSet(svc *corev1.Service, labels map[string]string, set *PortSet, existing []*discoveryv1.EndpointSlice) Plan {
	var plan Plan
	want := map[string]discoveryv1.Endpoint{}
	var order []string
	for _, ep := range set.endpoints {
		k := endpointKey(ep)
		want[k] = ep
		order = append(order, k)
	}
	placed := map[string]bool{}
	var kept []*discoveryv1.EndpointSlice
	changed := map[*discoveryv1.EndpointSlice]bool{}
	for _, old := range existing {
		s := old.DeepCopy()
		s.Endpoints = nil
		for _, ep := range old.Endpoints {
			k := endpointKey(ep)
			if d, ok := want[k]; ok && !placed[k] {
				placed[k] = true
				s.Endpoints = append(s.Endpoints, d)
			}
		}
		if len(s.Endpoints) == 0 {
			plan.Delete = append(plan.Delete, old)
			continue
		}
		s.Ports = set.ports
		s.Labels = mergeLabels(s.Labels, labels)
		s.AddressType = discoveryv1.AddressTypeIPv4
		changed[s] = !apiequality.Semantic.DeepEqual(s, old)
		kept = append(kept, s)
	}
	var pending []discoveryv1.Endpoint
	for _, k := range order {
		if !placed[k] {
			pending = append(pending, want[k])
		}
	}
	for _, s := range kept {
		for len(pending) > 0 && len(s.Endpoints) < MaxEndpointsPerSlice {
			s.Endpoints = append(s.Endpoints, pending[0])
			pending = pending[1:]
			changed[s] = true
		}
		if changed[s] {
			plan.Update = append(plan.Update, s)
		}
	}
	for len(pending) > 0 {
		n := min(len(pending), MaxEndpointsPerSlice)
		s := newSlice(svc, labels)
		s.Ports = set.ports
		s.Endpoints = pending[:n]
		pending = pending[n:]
		plan.Create = append(plan.Create, s)
	}
	return plan
}

// placeholder keeps one empty slice for a service without endpoints, as
// upstream does, so clients can tell "no endpoints" from "not processed".
func placeholder(svc *corev1.Service, labels map[string]string, existing []*discoveryv1.EndpointSlice) Plan {
	var plan Plan
	var keep *discoveryv1.EndpointSlice
	for _, s := range existing {
		if keep == nil && len(s.Endpoints) == 0 && len(s.Ports) == 0 {
			keep = s
			continue
		}
		plan.Delete = append(plan.Delete, s)
	}
	if keep == nil {
		keep = existing0(existing)
		if keep != nil {
			// Empty the first slice rather than delete and recreate it.
			plan.Delete = plan.Delete[1:]
			s := keep.DeepCopy()
			s.Endpoints, s.Ports = nil, nil
			s.Labels = mergeLabels(s.Labels, labels)
			plan.Update = append(plan.Update, s)
			return plan
		}
		plan.Create = append(plan.Create, newSlice(svc, labels))
		return plan
	}
	if !maps.Equal(mergeLabels(keep.Labels, labels), keep.Labels) {
		s := keep.DeepCopy()
		s.Labels = mergeLabels(s.Labels, labels)
		plan.Update = append(plan.Update, s)
	}
	return plan
}

func existing0(s []*discoveryv1.EndpointSlice) *discoveryv1.EndpointSlice {
	if len(s) == 0 {
		return nil
	}
	return s[0]
}

// endpointKey identifies an endpoint across syncs: its pod, else its
// address.
func endpointKey(ep discoveryv1.Endpoint) string {
	if ep.TargetRef != nil && ep.TargetRef.UID != "" {
		return string(ep.TargetRef.UID)
	}
	if len(ep.Addresses) > 0 {
		return ep.Addresses[0]
	}
	return ""
}

func newSlice(svc *corev1.Service, labels map[string]string) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: svc.Name + "-",
			Namespace:    svc.Namespace,
			Labels:       maps.Clone(labels),
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Service", Name: svc.Name, UID: svc.UID,
				Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
	}
}

// sliceLabels are the Service's labels plus the ones that tie a slice to
// it and to this controller.
func sliceLabels(svc *corev1.Service) map[string]string {
	out := endpoints.Labels(svc)
	out[LabelServiceName] = svc.Name
	out[LabelManagedBy] = ManagedBy
	return out
}

// mergeLabels returns have with want's labels set over it.
func mergeLabels(have, want map[string]string) map[string]string {
	out := maps.Clone(have)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, want)
	return out
}
