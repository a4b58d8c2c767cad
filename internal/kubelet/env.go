package kubelet

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/utils/ptr"
	"net/netip"

	"github.com/tugcluster/tug/internal/kubelet/fieldpath"
)

// containerEnv is c's environment in Kubernetes' order: service variables
// first, then envFrom sources, then env entries, later ones winning;
// $(VAR) references in values expand against what came before.
func (k *Kubelet) containerEnv(ctx context.Context, pod *corev1.Pod, c *corev1.Container, podIPs []string) ([]*runtimeapi.KeyValue, error) {
	vars := map[string]string{}
	var order []string
	set := func(key, value string) {
		if _, ok := vars[key]; !ok {
			order = append(order, key)
		}
		vars[key] = value
	}
	links := pod.Spec.EnableServiceLinks == nil || *pod.Spec.EnableServiceLinks
	for _, kv := range k.serviceEnv(pod.Namespace, links) {
		set(kv[0], kv[1])
	}
	for _, from := range c.EnvFrom {
		data, err := k.envFromSource(ctx, pod.Namespace, from)
		if err != nil {
			return nil, err
		}
		keys := make([]string, 0, len(data))
		for key := range data {
			keys = append(keys, key)
		}
		slices.Sort(keys)
		for _, key := range keys {
			name := from.Prefix + key
			if !relaxedEnvName(name) {
				continue // the kubelet skips invalid names
			}
			set(name, data[key])
		}
	}
	for _, e := range c.Env {
		value, err := k.envValue(ctx, pod, c, e, podIPs, vars)
		if err != nil {
			return nil, err
		}
		if value == nil {
			continue
		}
		set(e.Name, *value)
	}
	out := make([]*runtimeapi.KeyValue, 0, len(order))
	for _, key := range order {
		out = append(out, &runtimeapi.KeyValue{Key: key, Value: []byte(vars[key])})
	}
	return out, nil
}

// relaxedEnvName reports whether name may name an environment variable:
// printable ASCII other than '=', as Kubernetes allows since relaxed
// validation became the default.
func relaxedEnvName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < ' ' || c > '~' || c == '=' {
			return false
		}
	}
	return true
}

// envValue resolves one env entry; nil skips it (an optional missing key).
func (k *Kubelet) envValue(ctx context.Context, pod *corev1.Pod, c *corev1.Container, e corev1.EnvVar, podIPs []string, vars map[string]string) (*string, error) {
	from := e.ValueFrom
	if from == nil {
		return ptr.To(expand(e.Value, vars)), nil
	}
	switch {
	case from.FieldRef != nil:
		p := podWithIPs(pod, podIPs, k.cfg.NodeIPs)
		v, err := fieldpath.FieldValue(p, from.FieldRef.FieldPath)
		if err != nil {
			return nil, fmt.Errorf("env %s: %w", e.Name, err)
		}
		return &v, nil
	case from.ResourceFieldRef != nil:
		ref := from.ResourceFieldRef.DeepCopy()
		if ref.ContainerName == "" {
			ref.ContainerName = c.Name
		}
		v, err := fieldpath.ResourceValue(pod, ref, k.node.allocatableCopy())
		if err != nil {
			return nil, fmt.Errorf("env %s: %w", e.Name, err)
		}
		return &v, nil
	case from.ConfigMapKeyRef != nil:
		ref := from.ConfigMapKeyRef
		cm, err := k.client.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			if apierrors.IsNotFound(err) && ptr.Deref(ref.Optional, false) {
				return nil, nil
			}
			return nil, fmt.Errorf("configmap %q not found", ref.Name)
		}
		if v, ok := cm.Data[ref.Key]; ok {
			return &v, nil
		}
		if v, ok := cm.BinaryData[ref.Key]; ok {
			return ptr.To(string(v)), nil
		}
		if ptr.Deref(ref.Optional, false) {
			return nil, nil
		}
		return nil, fmt.Errorf("couldn't find key %s in ConfigMap %s/%s", ref.Key, pod.Namespace, ref.Name)
	case from.SecretKeyRef != nil:
		ref := from.SecretKeyRef
		s, err := k.client.CoreV1().Secrets(pod.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			if apierrors.IsNotFound(err) && ptr.Deref(ref.Optional, false) {
				return nil, nil
			}
			return nil, fmt.Errorf("secret %q not found", ref.Name)
		}
		if v, ok := s.Data[ref.Key]; ok {
			return ptr.To(string(v)), nil
		}
		if ptr.Deref(ref.Optional, false) {
			return nil, nil
		}
		return nil, fmt.Errorf("couldn't find key %s in Secret %s/%s", ref.Key, pod.Namespace, ref.Name)
	}
	return ptr.To(""), nil
}

// envFromSource reads a whole ConfigMap or Secret for envFrom.
func (k *Kubelet) envFromSource(ctx context.Context, namespace string, from corev1.EnvFromSource) (map[string]string, error) {
	data := map[string]string{}
	switch {
	case from.ConfigMapRef != nil:
		cm, err := k.client.CoreV1().ConfigMaps(namespace).Get(ctx, from.ConfigMapRef.Name, metav1.GetOptions{})
		if err != nil {
			if apierrors.IsNotFound(err) && ptr.Deref(from.ConfigMapRef.Optional, false) {
				return data, nil
			}
			return nil, fmt.Errorf("configmap %q not found", from.ConfigMapRef.Name)
		}
		for key, v := range cm.Data {
			data[key] = v
		}
	case from.SecretRef != nil:
		s, err := k.client.CoreV1().Secrets(namespace).Get(ctx, from.SecretRef.Name, metav1.GetOptions{})
		if err != nil {
			if apierrors.IsNotFound(err) && ptr.Deref(from.SecretRef.Optional, false) {
				return data, nil
			}
			return nil, fmt.Errorf("secret %q not found", from.SecretRef.Name)
		}
		for key, v := range s.Data {
			data[key] = string(v)
		}
	}
	return data, nil
}

// podWithIPs is pod with the IPs the kubelet knows filled into its status
// (the status in the cache may not have them yet).
func podWithIPs(pod *corev1.Pod, podIPs []string, nodeIPs []netip.Addr) *corev1.Pod {
	p := pod.DeepCopy()
	if len(podIPs) > 0 {
		p.Status.PodIP = podIPs[0]
		p.Status.PodIPs = nil
		for _, ip := range podIPs {
			p.Status.PodIPs = append(p.Status.PodIPs, corev1.PodIP{IP: ip})
		}
	}
	if len(nodeIPs) > 0 {
		p.Status.HostIP = nodeIPs[0].String()
		p.Status.HostIPs = nil
		for _, ip := range nodeIPs {
			p.Status.HostIPs = append(p.Status.HostIPs, corev1.HostIP{IP: ip.String()})
		}
	}
	return p
}

// serviceEnv is the docker-link style variables of the services in
// namespace when links is set, and always of the kubernetes Service of
// the default namespace (unless namespace has its own service of that
// name), sorted by service name.
func (k *Kubelet) serviceEnv(namespace string, links bool) [][2]string {
	byName := map[string]*corev1.Service{}
	for _, obj := range k.services.GetStore().List() {
		svc, ok := obj.(*corev1.Service)
		if !ok || svc.Spec.ClusterIP == "" || svc.Spec.ClusterIP == corev1.ClusterIPNone {
			continue
		}
		switch {
		case svc.Namespace == namespace && links:
			byName[svc.Name] = svc
		case svc.Namespace == metav1.NamespaceDefault && svc.Name == "kubernetes":
			if _, ok := byName[svc.Name]; !ok {
				byName[svc.Name] = svc
			}
		}
	}
	services := make([]*corev1.Service, 0, len(byName))
	for _, svc := range byName {
		services = append(services, svc)
	}
	slices.SortFunc(services, func(a, b *corev1.Service) int { return strings.Compare(a.Name, b.Name) })
	var out [][2]string
	for _, svc := range services {
		name := strings.ToUpper(strings.ReplaceAll(svc.Name, "-", "_")) + "_"
		ip := svc.Spec.ClusterIP
		if len(svc.Spec.Ports) == 0 {
			continue
		}
		first := svc.Spec.Ports[0]
		out = append(out, [2]string{name + "SERVICE_HOST", ip}, [2]string{name + "SERVICE_PORT", strconv.Itoa(int(first.Port))})
		for _, p := range svc.Spec.Ports {
			if p.Name != "" {
				out = append(out, [2]string{name + "SERVICE_PORT_" + strings.ToUpper(strings.ReplaceAll(p.Name, "-", "_")), strconv.Itoa(int(p.Port))})
			}
		}
		proto := strings.ToLower(string(first.Protocol))
		if proto == "" {
			proto = "tcp"
		}
		out = append(out, [2]string{name + "PORT", fmt.Sprintf("%s://%s", proto, net.JoinHostPort(ip, strconv.Itoa(int(first.Port))))})
		for _, p := range svc.Spec.Ports {
			pr := strings.ToLower(string(p.Protocol))
			if pr == "" {
				pr = "tcp"
			}
			prefix := fmt.Sprintf("%sPORT_%d_%s", name, p.Port, strings.ToUpper(pr))
			out = append(out,
				[2]string{prefix, fmt.Sprintf("%s://%s", pr, net.JoinHostPort(ip, strconv.Itoa(int(p.Port))))},
				[2]string{prefix + "_PROTO", pr},
				[2]string{prefix + "_PORT", strconv.Itoa(int(p.Port))},
				[2]string{prefix + "_ADDR", ip})
		}
	}
	return out
}

// expand replaces $(VAR) with vars' values; $$ escapes a dollar, and
// references to unknown variables stay as written, as Kubernetes does.
func expand(s string, vars map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString("$(") // not a reference; what follows is read as usual
				i++
				continue
			}
			name := s[i+2 : i+2+end]
			if v, ok := vars[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+3+end])
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

func expandAll(in []string, vars map[string]string) []string {
	if in == nil {
		return nil
	}
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = expand(s, vars)
	}
	return out
}
