// Package memtrim gives back memory tug no longer uses: the heap pages a
// burst of work left free (ReleaseAfterBursts), and the pages of tug's own
// executable that only start-up used. tug is one binary of about 100 MB;
// initializing its packages touches code and read-only data all over it,
// and the kernel maps those pages (and their neighbors, by fault-around)
// into the process, where they count as resident long after start-up.
// They are clean copies of the file, so asking the kernel to page them out
// loses nothing: the ones still in use fault back in from the page cache.
package memtrim

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// ReleaseExecutablePages pages out the read-only mappings of the running
// executable (its code and read-only data) and returns how many bytes of
// mappings it advised. Writable mappings are left alone.
func ReleaseExecutablePages() (int, error) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return 0, err
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return 0, err
	}
	advised := 0
	sc := bufio.NewScanner(bytes.NewReader(maps))
	for sc.Scan() {
		lo, hi, ok := readOnlyMappingOf(sc.Bytes(), exe)
		if !ok {
			continue
		}
		// The raw system call takes the range as numbers: the mapping is
		// never read or written here, only advised.
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, lo, hi-lo, unix.MADV_PAGEOUT); errno != 0 {
			return advised, fmt.Errorf("madvise %x-%x: %w", lo, hi, errno)
		}
		advised += int(hi - lo)
	}
	return advised, sc.Err()
}

// readOnlyMappingOf parses one line of /proc/self/maps ("start-end perms
// offset dev inode path") and reports the range of a mapping of path that
// is not writable.
func readOnlyMappingOf(line []byte, path string) (lo, hi uintptr, ok bool) {
	fields := bytes.Fields(line)
	if len(fields) < 6 || string(fields[5]) != path || len(fields[1]) < 2 || fields[1][1] == 'w' {
		return 0, 0, false
	}
	start, end, found := bytes.Cut(fields[0], []byte("-"))
	if !found {
		return 0, 0, false
	}
	l, err1 := strconv.ParseUint(string(start), 16, 64)
	h, err2 := strconv.ParseUint(string(end), 16, 64)
	if err1 != nil || err2 != nil || h <= l {
		return 0, 0, false
	}
	return uintptr(l), uintptr(h), true
}
