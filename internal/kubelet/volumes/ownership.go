package volumes

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

const (
	// readOnlyGroupMask is what the fsGroup gains on read-only content
	// (API data volumes): read, and search on dirs.
	readOnlyGroupMask = os.FileMode(0o440)
	// readWriteGroupMask is what the fsGroup gains on writable content
	// (emptyDir): read and write, and search on dirs.
	readWriteGroupMask = os.FileMode(0o660)
	execMask           = os.FileMode(0o110)
)

// applyFSGroup gives root and everything under it to group gid, as the pod
// securityContext's fsGroup asks: the group owns each entry, gains read
// (and write unless readOnly) and dirs get setgid so that files created
// later by containers inherit the group. Symlinks change owner only.
func applyFSGroup(root string, gid int64, readOnly bool) error {
	mask := readWriteGroupMask
	if readOnly {
		mask = readOnlyGroupMask
	}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := os.Lchown(path, -1, int(gid)); err != nil {
			return err
		}
		if d.Type()&os.ModeSymlink != 0 {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		mode := info.Mode() | mask
		if d.IsDir() {
			mode |= os.ModeSetgid | execMask
		}
		return os.Chmod(path, mode&(os.ModePerm|os.ModeSetgid|os.ModeSetuid|os.ModeSticky))
	})
	if err != nil {
		return fmt.Errorf("apply fsGroup %d to %s: %w", gid, root, err)
	}
	return nil
}

// ownedBy reports whether info's owner and group are what the writer would
// set: uid when given, gid when given.
func ownedBy(info fs.FileInfo, uid, gid *int64) bool {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	if uid != nil && int64(st.Uid) != *uid {
		return false
	}
	if gid != nil && int64(st.Gid) != *gid {
		return false
	}
	return true
}
