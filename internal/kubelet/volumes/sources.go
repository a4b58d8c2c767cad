package volumes

import (
	"context"
	"errors"
	"fmt"
	"os"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugcluster/tug/internal/kubelet/fieldpath"
)

// rootCAConfigMap is the ConfigMap the root CA publisher puts in every
// namespace; kube-api-access volumes project its ca.crt.
const rootCAConfigMap = "kube-root-ca.crt"

func (m *Manager) configMapPayload(ctx context.Context, pod *corev1.Pod, src *corev1.ConfigMapVolumeSource) (map[string]file, error) {
	data, err := m.configMapData(ctx, pod.Namespace, src.Name)
	if err != nil {
		if apierrors.IsNotFound(err) && isTrue(src.Optional) {
			return map[string]file{}, nil
		}
		return nil, err
	}
	payload := map[string]file{}
	err = project(payload, data, src.Items, modeOr(src.DefaultMode, corev1.ConfigMapVolumeSourceDefaultMode), isTrue(src.Optional), "configmap", src.Name)
	return payload, err
}

func (m *Manager) secretPayload(ctx context.Context, pod *corev1.Pod, src *corev1.SecretVolumeSource) (map[string]file, error) {
	data, err := m.secretData(ctx, pod.Namespace, src.SecretName)
	if err != nil {
		if apierrors.IsNotFound(err) && isTrue(src.Optional) {
			return map[string]file{}, nil
		}
		return nil, err
	}
	payload := map[string]file{}
	err = project(payload, data, src.Items, modeOr(src.DefaultMode, corev1.SecretVolumeSourceDefaultMode), isTrue(src.Optional), "secret", src.SecretName)
	return payload, err
}

func (m *Manager) downwardAPIPayload(pod *corev1.Pod, items []corev1.DownwardAPIVolumeFile, defaultMode int32) (map[string]file, error) {
	payload := map[string]file{}
	return payload, m.addDownwardAPI(payload, pod, items, defaultMode)
}

func (m *Manager) addDownwardAPI(payload map[string]file, pod *corev1.Pod, items []corev1.DownwardAPIVolumeFile, defaultMode int32) error {
	for _, item := range items {
		var value string
		var err error
		switch {
		case item.FieldRef != nil:
			value, err = fieldpath.FieldValue(pod, item.FieldRef.FieldPath)
		case item.ResourceFieldRef != nil:
			value, err = fieldpath.ResourceValue(pod, item.ResourceFieldRef, m.opts.NodeAllocatable)
		default:
			err = errors.New("neither fieldRef nor resourceFieldRef is set")
		}
		if err != nil {
			return fmt.Errorf("downward API file %s: %w", item.Path, err)
		}
		payload[item.Path] = file{data: []byte(value), mode: os.FileMode(modeOr(item.Mode, defaultMode))}
	}
	return nil
}

func (m *Manager) projectedPayload(ctx context.Context, pod *corev1.Pod, src *corev1.ProjectedVolumeSource) (map[string]file, error) {
	defaultMode := modeOr(src.DefaultMode, corev1.ProjectedVolumeSourceDefaultMode)
	payload := map[string]file{}
	for i := range src.Sources {
		s := &src.Sources[i]
		switch {
		case s.ConfigMap != nil:
			data, err := m.configMapData(ctx, pod.Namespace, s.ConfigMap.Name)
			if apierrors.IsNotFound(err) && isTrue(s.ConfigMap.Optional) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if err := project(payload, data, s.ConfigMap.Items, defaultMode, isTrue(s.ConfigMap.Optional), "configmap", s.ConfigMap.Name); err != nil {
				return nil, err
			}
		case s.Secret != nil:
			data, err := m.secretData(ctx, pod.Namespace, s.Secret.Name)
			if apierrors.IsNotFound(err) && isTrue(s.Secret.Optional) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if err := project(payload, data, s.Secret.Items, defaultMode, isTrue(s.Secret.Optional), "secret", s.Secret.Name); err != nil {
				return nil, err
			}
		case s.DownwardAPI != nil:
			if err := m.addDownwardAPI(payload, pod, s.DownwardAPI.Items, defaultMode); err != nil {
				return nil, err
			}
		case s.ServiceAccountToken != nil:
			token, err := m.token(ctx, pod, s.ServiceAccountToken)
			if err != nil {
				return nil, err
			}
			f := file{data: []byte(token), mode: os.FileMode(defaultMode)}
			// A token is a credential: when the pod names who owns its
			// files, only that user (and the fsGroup, which gains read)
			// may read it, whatever defaultMode says.
			uid := fsUser(pod)
			if uid != nil || fsGroup(pod) != nil {
				f.mode = 0o600
				f.uid = uid
			}
			payload[s.ServiceAccountToken.Path] = f
		default:
			return nil, errors.New("unsupported projected volume source (only configMap, secret, downwardAPI and serviceAccountToken are)")
		}
	}
	return payload, nil
}

// project adds the entries of data to payload: every key as a file of the
// same name, or only items (key to path, with per-item mode). A key that
// items names and data lacks is an error unless the source is optional.
func project(payload map[string]file, data map[string][]byte, items []corev1.KeyToPath, defaultMode int32, optional bool, kind, name string) error {
	if len(items) == 0 {
		for k, v := range data {
			payload[k] = file{data: v, mode: os.FileMode(defaultMode)}
		}
		return nil
	}
	for _, item := range items {
		v, ok := data[item.Key]
		if !ok {
			if optional {
				continue
			}
			return fmt.Errorf("%s %q has no key %q", kind, name, item.Key)
		}
		payload[item.Path] = file{data: v, mode: os.FileMode(modeOr(item.Mode, defaultMode))}
	}
	return nil
}

func (m *Manager) configMapData(ctx context.Context, namespace, name string) (map[string][]byte, error) {
	if m.opts.Client == nil {
		return nil, errors.New("no API client to read configmaps")
	}
	cm, err := m.opts.Client.CoreV1().ConfigMaps(namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) && name == rootCAConfigMap && len(m.opts.CAPEM) > 0 {
		return map[string][]byte{"ca.crt": m.opts.CAPEM}, nil
	}
	if err != nil {
		return nil, err
	}
	data := make(map[string][]byte, len(cm.Data)+len(cm.BinaryData))
	for k, v := range cm.Data {
		data[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		data[k] = v
	}
	return data, nil
}

func (m *Manager) secretData(ctx context.Context, namespace, name string) (map[string][]byte, error) {
	if m.opts.Client == nil {
		return nil, errors.New("no API client to read secrets")
	}
	s, err := m.opts.Client.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return s.Data, nil
}

// fsUser is the user every container of pod runs as, when they all name
// the same one (in their or the pod's securityContext); else nil, and
// files keep the kubelet's owner.
func fsUser(pod *corev1.Pod) *int64 {
	var podUser *int64
	if pod.Spec.SecurityContext != nil {
		podUser = pod.Spec.SecurityContext.RunAsUser
	}
	var user *int64
	all := append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...)
	for i := range all {
		u := podUser
		if sc := all[i].SecurityContext; sc != nil && sc.RunAsUser != nil {
			u = sc.RunAsUser
		}
		if u == nil || (user != nil && *user != *u) {
			return nil
		}
		user = u
	}
	return user
}

func isTrue(b *bool) bool { return b != nil && *b }
