package volumes

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
)

// setUpHostPath checks the node's path against the volume's type, creating
// it for the *OrCreate types, and returns it.
func setUpHostPath(src *corev1.HostPathVolumeSource) (string, error) {
	path := filepath.Clean(src.Path)
	if !filepath.IsAbs(path) {
		return "", fmt.Errorf("hostPath %q is not absolute", src.Path)
	}
	typ := corev1.HostPathUnset
	if src.Type != nil {
		typ = *src.Type
	}
	if typ == corev1.HostPathUnset {
		return path, nil
	}
	info, err := os.Stat(path)
	missing := errors.Is(err, fs.ErrNotExist)
	if err != nil && !missing {
		return "", fmt.Errorf("stat hostPath %s: %w", path, err)
	}
	switch typ {
	case corev1.HostPathDirectoryOrCreate:
		if missing {
			if err := os.MkdirAll(path, 0o755); err != nil {
				return "", fmt.Errorf("create hostPath dir %s: %w", path, err)
			}
			return path, nil
		}
		return path, wantType(path, info, "a directory", fs.FileInfo.IsDir)
	case corev1.HostPathFileOrCreate:
		if missing {
			// Like Kubernetes, the parent dir must exist: creating a tree
			// of dirs on the node is what DirectoryOrCreate is for.
			f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
			if err != nil && !errors.Is(err, fs.ErrExist) {
				return "", fmt.Errorf("create hostPath file %s: %w", path, err)
			}
			if err == nil {
				if err := f.Close(); err != nil {
					return "", fmt.Errorf("create hostPath file %s: %w", path, err)
				}
				return path, nil
			}
			if info, err = os.Stat(path); err != nil {
				return "", fmt.Errorf("stat hostPath %s: %w", path, err)
			}
		}
		return path, wantType(path, info, "a file", isRegular)
	}
	if missing {
		return "", fmt.Errorf("hostPath %s does not exist (type %s)", path, typ)
	}
	switch typ {
	case corev1.HostPathDirectory:
		return path, wantType(path, info, "a directory", fs.FileInfo.IsDir)
	case corev1.HostPathFile:
		return path, wantType(path, info, "a file", isRegular)
	case corev1.HostPathSocket:
		return path, wantType(path, info, "a socket", hasMode(fs.ModeSocket))
	case corev1.HostPathCharDev:
		return path, wantType(path, info, "a character device", func(i fs.FileInfo) bool {
			return i.Mode()&fs.ModeDevice != 0 && i.Mode()&fs.ModeCharDevice != 0
		})
	case corev1.HostPathBlockDev:
		return path, wantType(path, info, "a block device", func(i fs.FileInfo) bool {
			return i.Mode()&fs.ModeDevice != 0 && i.Mode()&fs.ModeCharDevice == 0
		})
	}
	return "", fmt.Errorf("unknown hostPath type %q", typ)
}

func wantType(path string, info fs.FileInfo, what string, ok func(fs.FileInfo) bool) error {
	if !ok(info) {
		return fmt.Errorf("hostPath %s is not %s", path, what)
	}
	return nil
}

func isRegular(i fs.FileInfo) bool { return i.Mode().IsRegular() }

func hasMode(m fs.FileMode) func(fs.FileInfo) bool {
	return func(i fs.FileInfo) bool { return i.Mode()&m != 0 }
}
