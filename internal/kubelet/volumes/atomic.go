package volumes

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

const (
	// dataLink is the symlink that points at the current timestamped dir.
	dataLink = "..data"
	// dataLinkTmp is where the next dataLink is made before the rename.
	dataLinkTmp = "..data_tmp"
)

// file is one file of an atomically written volume.
type file struct {
	data []byte
	mode os.FileMode
	// uid owns the file when set (the token file when all containers of
	// the pod run as one user); else the kubelet's user does.
	uid *int64
}

// atomicWriter publishes sets of files in dir so that a reader always sees
// a complete set: see the package comment for the layout.
type atomicWriter struct {
	dir     string
	fsGroup *int64
	now     time.Time
	// beforeSwap, when set, runs after the new timestamped dir is complete
	// and before ..data moves to it. Tests use it to look at the volume
	// mid-update.
	beforeSwap func()
}

// write makes dir hold exactly payload (paths relative to dir, possibly
// nested). It does nothing when the current content already matches, so
// that an unchanged ConfigMap does not churn the volume on every sync.
func (w *atomicWriter) write(payload map[string]file) error {
	for p := range payload {
		if err := validatePayloadPath(p); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(w.dir, 0o777); err != nil {
		return fmt.Errorf("create volume dir: %w", err)
	}
	// Kubernetes makes these volume roots world-accessible (0777) and lets
	// the file modes decide who may read: the umask must not narrow it.
	if err := os.Chmod(w.dir, 0o777|w.rootExtraMode()); err != nil {
		return fmt.Errorf("chmod volume dir: %w", err)
	}
	oldTS, err := os.Readlink(filepath.Join(w.dir, dataLink))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read %s: %w", dataLink, err)
	}
	if oldTS != "" && w.current(filepath.Join(w.dir, oldTS), payload) {
		return w.publishNames(payload, oldTS)
	}
	newTS, err := w.writeTimestampDir(payload)
	if err != nil {
		return err
	}
	if w.beforeSwap != nil {
		w.beforeSwap()
	}
	tmp := filepath.Join(w.dir, dataLinkTmp)
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove stale %s: %w", dataLinkTmp, err)
	}
	if err := os.Symlink(newTS, tmp); err != nil {
		return fmt.Errorf("link %s: %w", dataLinkTmp, err)
	}
	if err := os.Rename(tmp, filepath.Join(w.dir, dataLink)); err != nil {
		return fmt.Errorf("swap %s: %w", dataLink, err)
	}
	return w.publishNames(payload, newTS)
}

// rootExtraMode is the setgid bit volume roots get with an fsGroup.
func (w *atomicWriter) rootExtraMode() os.FileMode {
	if w.fsGroup != nil {
		return os.ModeSetgid
	}
	return 0
}

// current reports whether tsDir holds exactly payload, with the modes the
// files would get now.
func (w *atomicWriter) current(tsDir string, payload map[string]file) bool {
	seen := 0
	err := filepath.WalkDir(tsDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(tsDir, path)
		if err != nil {
			return err
		}
		f, ok := payload[rel]
		if !ok {
			return errStale
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() || info.Mode().Perm() != w.finalMode(f.mode) || !ownedBy(info, f.uid, w.fsGroup) {
			return errStale
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !bytes.Equal(data, f.data) {
			return errStale
		}
		seen++
		return nil
	})
	return err == nil && seen == len(payload)
}

var errStale = errors.New("stale")

// finalMode is a file's mode after fsGroup ownership is applied: API data
// volumes are read-only, so the group gains read.
func (w *atomicWriter) finalMode(mode os.FileMode) os.FileMode {
	if w.fsGroup != nil {
		return mode | readOnlyGroupMask
	}
	return mode
}

// writeTimestampDir writes payload into a new hidden dir named after the
// time, which keeps the dirs of successive updates apart and tells an
// operator when the content last changed.
func (w *atomicWriter) writeTimestampDir(payload map[string]file) (string, error) {
	tsDir, err := os.MkdirTemp(w.dir, w.now.UTC().Format("..2006_01_02_15_04_05."))
	if err != nil {
		return "", fmt.Errorf("create timestamped dir: %w", err)
	}
	if err := os.Chmod(tsDir, 0o755); err != nil {
		return "", fmt.Errorf("chmod timestamped dir: %w", err)
	}
	for p, f := range payload {
		full := filepath.Join(tsDir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return "", fmt.Errorf("create dir of %s: %w", p, err)
		}
		if err := os.WriteFile(full, f.data, f.mode); err != nil {
			return "", fmt.Errorf("write %s: %w", p, err)
		}
		// WriteFile's mode passes through the umask; the API's mode is exact.
		if err := os.Chmod(full, f.mode); err != nil {
			return "", fmt.Errorf("chmod %s: %w", p, err)
		}
		if f.uid != nil {
			if err := os.Lchown(full, int(*f.uid), -1); err != nil {
				return "", fmt.Errorf("chown %s: %w", p, err)
			}
		}
	}
	if w.fsGroup != nil {
		if err := applyFSGroup(tsDir, *w.fsGroup, true); err != nil {
			return "", err
		}
		if err := os.Lchown(w.dir, -1, int(*w.fsGroup)); err != nil {
			return "", fmt.Errorf("chown volume dir: %w", err)
		}
	}
	return filepath.Base(tsDir), nil
}

// publishNames makes the visible names of payload (the first element of
// each path) symlinks through ..data and removes names and timestamped
// dirs that are no longer current.
func (w *atomicWriter) publishNames(payload map[string]file, currentTS string) error {
	names := map[string]bool{}
	for p := range payload {
		top, _, _ := strings.Cut(p, string(filepath.Separator))
		names[top] = true
	}
	for name := range names {
		link := filepath.Join(w.dir, name)
		target := filepath.Join(dataLink, name)
		info, err := os.Lstat(link)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return fmt.Errorf("stat %s: %w", name, err)
		case info.Mode()&os.ModeSymlink == 0:
			return fmt.Errorf("%s exists in the volume and is not a symlink", name)
		default:
			if got, err := os.Readlink(link); err == nil && got == target {
				continue
			}
			if err := os.Remove(link); err != nil {
				return fmt.Errorf("replace link %s: %w", name, err)
			}
		}
		if err := os.Symlink(target, link); err != nil {
			return fmt.Errorf("link %s: %w", name, err)
		}
	}
	entries, err := os.ReadDir(w.dir)
	if err != nil {
		return fmt.Errorf("list volume dir: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		switch {
		case name == dataLink || name == currentTS || names[name]:
		case strings.HasPrefix(name, ".."):
			// An old timestamped dir, or a leftover of an interrupted update.
			if err := os.RemoveAll(filepath.Join(w.dir, name)); err != nil {
				return fmt.Errorf("remove old %s: %w", name, err)
			}
		case e.Type()&os.ModeSymlink != 0:
			if err := os.Remove(filepath.Join(w.dir, name)); err != nil {
				return fmt.Errorf("remove old link %s: %w", name, err)
			}
		}
	}
	return nil
}

// validatePayloadPath rejects paths that could leave the volume or clash
// with the hidden names of the layout; the API validates the same rules,
// this guards the host against objects that bypassed it.
func validatePayloadPath(p string) error {
	if p == "" {
		return errors.New("empty file path")
	}
	if filepath.IsAbs(p) {
		return fmt.Errorf("file path %q must be relative", p)
	}
	if strings.HasPrefix(p, "..") {
		return fmt.Errorf("file path %q must not start with '..'", p)
	}
	for _, elem := range strings.Split(p, "/") {
		if elem == ".." {
			return fmt.Errorf("file path %q must not contain '..'", p)
		}
	}
	if filepath.Clean(p) != p {
		return fmt.Errorf("file path %q is not clean", p)
	}
	return nil
}
