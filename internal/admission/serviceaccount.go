package admission

import (
	"context"
	"hash/fnv"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
)

const (
	// DefaultServiceAccount is used by pods that name none.
	DefaultServiceAccount = "default"
	// TokenMountPath is where containers find the service account token,
	// the cluster CA and their namespace.
	TokenMountPath = "/var/run/secrets/kubernetes.io/serviceaccount"
	// tokenVolumePrefix starts the name of the projected token volume.
	tokenVolumePrefix = "kube-api-access-"
	// tokenExpirationSeconds is the lifetime asked for the projected token.
	tokenExpirationSeconds = 3607
	rootCAConfigMap        = "kube-root-ca.crt"
)

// ServiceAccountGetter returns a namespace's service account.
type ServiceAccountGetter func(ctx context.Context, namespace, name string) (*corev1.ServiceAccount, error)

// ServiceAccount gives pods a service account (default "default") and,
// unless the pod or its account opts out, a projected volume with the
// account's token, the cluster CA and the namespace, mounted in every
// container. A missing account does not refuse the pod: the namespace's
// default account is created asynchronously after the namespace.
type ServiceAccount struct {
	Get ServiceAccountGetter
}

var _ Plugin = ServiceAccount{}

// Admit implements Plugin.
func (p ServiceAccount) Admit(ctx context.Context, a *Attributes) error {
	if a.Operation != Create || a.Resource != podsResource || a.Subresource != "" {
		return nil
	}
	pod, ok := a.Object.(*corev1.Pod)
	if !ok {
		return nil
	}
	if pod.Spec.ServiceAccountName == "" {
		pod.Spec.ServiceAccountName = DefaultServiceAccount
	}
	automount := true
	if pod.Spec.AutomountServiceAccountToken != nil {
		automount = *pod.Spec.AutomountServiceAccountToken
	} else {
		sa, err := p.Get(ctx, a.Namespace, pod.Spec.ServiceAccountName)
		switch {
		case err == nil && sa.AutomountServiceAccountToken != nil:
			automount = *sa.AutomountServiceAccountToken
		case err != nil && !apierrors.IsNotFound(err):
			return err
		}
	}
	if !automount || hasTokenMount(pod) {
		return nil
	}
	name := tokenVolumeName(pod)
	expiration := int64(tokenExpirationSeconds)
	mode := int32(0o644)
	pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{
		Projected: &corev1.ProjectedVolumeSource{DefaultMode: &mode, Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: &expiration}},
			{ConfigMap: &corev1.ConfigMapProjection{
				LocalObjectReference: corev1.LocalObjectReference{Name: rootCAConfigMap},
				Items:                []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}},
			}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{
				Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"},
			}}}},
		}},
	}})
	mount := corev1.VolumeMount{Name: name, ReadOnly: true, MountPath: TokenMountPath}
	for i := range pod.Spec.InitContainers {
		pod.Spec.InitContainers[i].VolumeMounts = append(pod.Spec.InitContainers[i].VolumeMounts, mount)
	}
	for i := range pod.Spec.Containers {
		pod.Spec.Containers[i].VolumeMounts = append(pod.Spec.Containers[i].VolumeMounts, mount)
	}
	return nil
}

// tokenVolumeName names the token volume of pod. Kubernetes picks a random
// suffix; any name free in the pod will do, and one that depends only on
// the service account makes the pods of one template alike, so that the
// watch cache keeps one copy of their volumes and containers
// (watchcache/sharing). A name the pod already uses gets a random suffix.
func tokenVolumeName(pod *corev1.Pod) string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789" // utilrand's: no vowels, no look-alikes
	h := fnv.New32a()
	_, _ = h.Write([]byte(pod.Spec.ServiceAccountName))
	sum := h.Sum32()
	suffix := make([]byte, 5)
	for i := range suffix {
		suffix[i] = alphabet[sum%uint32(len(alphabet))]
		sum /= uint32(len(alphabet))
	}
	for name := tokenVolumePrefix + string(suffix); ; name = tokenVolumePrefix + utilrand.String(5) {
		if !slices.ContainsFunc(pod.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == name }) {
			return name
		}
	}
}

// hasTokenMount reports whether a container already mounts something at
// the token path, in which case the pod brings its own.
func hasTokenMount(pod *corev1.Pod) bool {
	for _, c := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		for _, m := range c.VolumeMounts {
			if strings.TrimSuffix(m.MountPath, "/") == TokenMountPath {
				return true
			}
		}
	}
	return false
}
