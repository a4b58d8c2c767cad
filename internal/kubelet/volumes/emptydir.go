package volumes

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
)

// setUpEmptyDir makes the pod's empty dir: a plain dir on the node's disk,
// or a tmpfs mount for medium Memory. Either is world-writable (0777), as
// in Kubernetes, so that containers running as any user can use it; the
// fsGroup, if any, is applied once, when the dir is made.
func (m *Manager) setUpEmptyDir(pod *corev1.Pod, name string, src *corev1.EmptyDirVolumeSource) (string, error) {
	dir := m.volumeDir(pod.UID, pluginEmptyDir, name)
	_, err := os.Stat(dir)
	created := errors.Is(err, fs.ErrNotExist)
	if err != nil && !created {
		return "", fmt.Errorf("stat empty dir: %w", err)
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return "", fmt.Errorf("create empty dir: %w", err)
	}
	switch src.Medium {
	case corev1.StorageMediumDefault:
	case corev1.StorageMediumMemory:
		mounted, err := isMountPoint(dir)
		if err != nil {
			return "", err
		}
		if !mounted {
			if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, m.tmpfsOptions(src)); err != nil {
				return "", fmt.Errorf("mount tmpfs on %s: %w", dir, err)
			}
			created = true
		}
	default:
		return "", fmt.Errorf("unsupported emptyDir medium %q", src.Medium)
	}
	if !created {
		return dir, nil
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		return "", fmt.Errorf("chmod empty dir: %w", err)
	}
	if gid := fsGroup(pod); gid != nil {
		if err := applyFSGroup(dir, *gid, false); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// tmpfsOptions sizes a memory-backed empty dir: its sizeLimit, else the
// node's allocatable memory, so that one pod cannot fill the node's RAM
// past what the kubelet offers to pods.
func (m *Manager) tmpfsOptions(src *corev1.EmptyDirVolumeSource) string {
	opts := "mode=0777"
	size := int64(0)
	if src.SizeLimit != nil {
		size = src.SizeLimit.Value()
	} else if q, ok := m.opts.NodeAllocatable[corev1.ResourceMemory]; ok {
		size = q.Value()
	}
	if size > 0 {
		opts += ",size=" + strconv.FormatInt(size, 10)
	}
	return opts
}
