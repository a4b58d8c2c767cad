package volumes

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// claimPath returns the node path of the volume bound to a claim. Only
// volumes that are a path on this node (hostPath, local) can be used
// without attaching or mounting anything, which is all tug's kubelet does.
func (m *Manager) claimPath(ctx context.Context, namespace, claim string) (string, error) {
	if m.opts.Client == nil {
		return "", errors.New("no API client to read persistent volume claims")
	}
	pvc, err := m.opts.Client.CoreV1().PersistentVolumeClaims(namespace).Get(ctx, claim, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	if pvc.Status.Phase != corev1.ClaimBound || pvc.Spec.VolumeName == "" {
		return "", fmt.Errorf("persistentvolumeclaim %q is not bound", claim)
	}
	pv, err := m.opts.Client.CoreV1().PersistentVolumes().Get(ctx, pvc.Spec.VolumeName, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	if ref := pv.Spec.ClaimRef; ref != nil && ref.UID != "" && ref.UID != pvc.UID {
		return "", fmt.Errorf("persistentvolume %q is bound to another claim", pv.Name)
	}
	switch {
	case pv.Spec.HostPath != nil:
		return setUpHostPath(pv.Spec.HostPath)
	case pv.Spec.Local != nil:
		path := filepath.Clean(pv.Spec.Local.Path)
		if !filepath.IsAbs(path) {
			return "", fmt.Errorf("persistentvolume %q: local path %q is not absolute", pv.Name, pv.Spec.Local.Path)
		}
		if _, err := os.Stat(path); err != nil {
			return "", fmt.Errorf("persistentvolume %q: %w", pv.Name, err)
		}
		return path, nil
	}
	return "", fmt.Errorf("persistentvolume %q: only hostPath and local volumes are supported on this node", pv.Name)
}
