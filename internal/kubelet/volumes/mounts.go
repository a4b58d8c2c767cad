package volumes

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Mounts returns the CRI mounts of c's volumeMounts, given the volume
// paths from SetUp and the container's environment (for subPathExpr).
// API data volumes are always read-only, so that a container cannot
// corrupt what the kubelet keeps in sync. A subPath that does not exist is
// made as a dir, like the volume's root; one that leads out of the volume
// through a symlink is refused.
func (m *Manager) Mounts(pod *corev1.Pod, c *corev1.Container, paths map[string]string, env map[string]string) ([]*runtimeapi.Mount, error) {
	volumes := make(map[string]*corev1.Volume, len(pod.Spec.Volumes))
	for i := range pod.Spec.Volumes {
		volumes[pod.Spec.Volumes[i].Name] = &pod.Spec.Volumes[i]
	}
	mounts := make([]*runtimeapi.Mount, 0, len(c.VolumeMounts))
	for i := range c.VolumeMounts {
		vm := &c.VolumeMounts[i]
		mount, err := volumeMount(vm, volumes[vm.Name], paths[vm.Name], c, env)
		if err != nil {
			return nil, fmt.Errorf("volume mount %q at %s: %w", vm.Name, vm.MountPath, err)
		}
		mounts = append(mounts, mount)
	}
	return mounts, nil
}

func volumeMount(vm *corev1.VolumeMount, vol *corev1.Volume, volPath string, c *corev1.Container, env map[string]string) (*runtimeapi.Mount, error) {
	if vol == nil {
		return nil, errors.New("no such volume in the pod")
	}
	if volPath == "" {
		return nil, errors.New("volume is not set up")
	}
	subPath := vm.SubPath
	if vm.SubPathExpr != "" {
		var err error
		if subPath, err = expandEnv(vm.SubPathExpr, env); err != nil {
			return nil, fmt.Errorf("subPathExpr: %w", err)
		}
	}
	hostPath := volPath
	if subPath != "" {
		var err error
		if hostPath, err = resolveSubPath(volPath, subPath); err != nil {
			return nil, err
		}
	}
	propagation, err := mountPropagation(vm.MountPropagation, c)
	if err != nil {
		return nil, err
	}
	if vm.RecursiveReadOnly != nil && *vm.RecursiveReadOnly == corev1.RecursiveReadOnlyEnabled {
		// containerd 1.6, the runtime tug runs, cannot make submounts
		// read-only; IfPossible falls back to a plain read-only mount.
		return nil, errors.New("recursive read-only mounts are not supported by the container runtime")
	}
	return &runtimeapi.Mount{
		ContainerPath: vm.MountPath,
		HostPath:      hostPath,
		Readonly:      vm.ReadOnly || readOnlyVolume(&vol.VolumeSource),
		Propagation:   propagation,
	}, nil
}

// readOnlyVolume reports volumes that containers never write: API data,
// and claims the pod asked for read-only.
func readOnlyVolume(src *corev1.VolumeSource) bool {
	switch {
	case src.ConfigMap != nil, src.Secret != nil, src.DownwardAPI != nil, src.Projected != nil:
		return true
	case src.PersistentVolumeClaim != nil:
		return src.PersistentVolumeClaim.ReadOnly
	}
	return false
}

func mountPropagation(mode *corev1.MountPropagationMode, c *corev1.Container) (runtimeapi.MountPropagation, error) {
	if mode == nil {
		return runtimeapi.MountPropagation_PROPAGATION_PRIVATE, nil
	}
	switch *mode {
	case corev1.MountPropagationNone:
		return runtimeapi.MountPropagation_PROPAGATION_PRIVATE, nil
	case corev1.MountPropagationHostToContainer:
		return runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER, nil
	case corev1.MountPropagationBidirectional:
		// Mounts a container makes would reach the host: only privileged
		// containers may, as the API also validates.
		if c.SecurityContext == nil || c.SecurityContext.Privileged == nil || !*c.SecurityContext.Privileged {
			return 0, errors.New("bidirectional mount propagation needs a privileged container")
		}
		return runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL, nil
	}
	return 0, fmt.Errorf("unknown mount propagation %q", *mode)
}

// resolveSubPath returns the host path of subPath inside the volume at
// volPath with symlinks resolved, making it a dir when it does not exist.
// Resolving here means the runtime bind-mounts exactly the checked path,
// and a symlink a container planted cannot expose the node.
func resolveSubPath(volPath, subPath string) (string, error) {
	if filepath.IsAbs(subPath) {
		return "", fmt.Errorf("subPath %q must be relative", subPath)
	}
	for _, elem := range strings.Split(subPath, "/") {
		if elem == ".." {
			return "", fmt.Errorf("subPath %q must not contain '..'", subPath)
		}
	}
	root, err := filepath.EvalSymlinks(volPath)
	if err != nil {
		return "", fmt.Errorf("resolve volume path: %w", err)
	}
	full := filepath.Join(root, subPath)
	if _, err := os.Lstat(full); errors.Is(err, fs.ErrNotExist) {
		info, err := os.Stat(root)
		if err != nil {
			return "", fmt.Errorf("stat volume: %w", err)
		}
		if err := mkdirAllLike(root, subPath, info.Mode()); err != nil {
			return "", err
		}
	}
	resolved, err := filepath.EvalSymlinks(full)
	if err != nil {
		return "", fmt.Errorf("resolve subPath %q: %w", subPath, err)
	}
	if !within(root, resolved) {
		return "", fmt.Errorf("subPath %q leads out of the volume", subPath)
	}
	return resolved, nil
}

// mkdirAllLike makes the missing dirs of sub under root with mode, the
// root's: exactly, whatever the umask, so that the fsGroup and the users a
// container runs as get the access the volume's root gives them. Existing
// symlinks on the way are followed only within root, so that nothing is
// created outside the volume.
func mkdirAllLike(root, sub string, mode os.FileMode) error {
	mode &= os.ModePerm | os.ModeSetgid | os.ModeSticky
	path := root
	for _, elem := range strings.Split(sub, "/") {
		if elem == "" || elem == "." {
			continue
		}
		path = filepath.Join(path, elem)
		info, err := os.Lstat(path)
		if err == nil {
			if info.Mode()&os.ModeSymlink != 0 {
				if path, err = filepath.EvalSymlinks(path); err != nil {
					return fmt.Errorf("resolve subPath %q: %w", sub, err)
				}
				if !within(root, path) {
					return fmt.Errorf("subPath %q leads out of the volume", sub)
				}
			}
			continue
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("stat subPath %q: %w", sub, err)
		}
		if err := os.Mkdir(path, mode.Perm()); err != nil {
			return fmt.Errorf("create subPath %q: %w", sub, err)
		}
		if err := os.Chmod(path, mode); err != nil {
			return fmt.Errorf("create subPath %q: %w", sub, err)
		}
	}
	return nil
}

func within(root, path string) bool {
	return path == root || strings.HasPrefix(path, root+"/")
}

// expandEnv replaces $(NAME) in s with the container's env var NAME; $$
// is a literal $. As in Kubernetes, a subPathExpr naming a variable that is
// unset or empty is an error rather than a path with a hole in it.
func expandEnv(s string, env map[string]string) (string, error) {
	var b strings.Builder
	missing := map[string]bool{}
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
			continue
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				break
			}
			name := s[i+2 : i+2+end]
			v := env[name]
			if v == "" {
				missing[name] = true
			}
			b.WriteString(v)
			i += 2 + end
			continue
		}
		b.WriteByte('$')
	}
	if len(missing) > 0 {
		names := make([]string, 0, len(missing))
		for n := range missing {
			names = append(names, n)
		}
		sort.Strings(names)
		return "", fmt.Errorf("missing value for %s", strings.Join(names, ", "))
	}
	return b.String(), nil
}
