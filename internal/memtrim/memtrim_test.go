package memtrim

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestReadOnlyMappingOf(t *testing.T) {
	const exe = "/usr/local/bin/tug"
	cases := []struct {
		line   string
		ok     bool
		lo, hi uintptr
	}{
		{"00400000-00fac000 r-xp 00000000 fd:01 1234 /usr/local/bin/tug", true, 0x400000, 0xfac000},
		{"00fac000-019f5000 r--p 00bac000 fd:01 1234 /usr/local/bin/tug", true, 0xfac000, 0x19f5000},
		{"019f5000-01a3c000 rw-p 015f5000 fd:01 1234 /usr/local/bin/tug", false, 0, 0},       // data: written
		{"7f0000000000-7f0000021000 r-xp 00000000 fd:01 99 /usr/lib/libc.so.6", false, 0, 0}, // another file
		{"7ffd1000-7ffd2000 r--p 00000000 00:00 0", false, 0, 0},                             // anonymous
		{"garbage", false, 0, 0},
	}
	for _, tc := range cases {
		lo, hi, ok := readOnlyMappingOf([]byte(tc.line), exe)
		if ok != tc.ok || lo != tc.lo || hi != tc.hi {
			t.Errorf("%q: got %x-%x %v, want %x-%x %v", tc.line, lo, hi, ok, tc.lo, tc.hi, tc.ok)
		}
	}
}

// TestReleaseExecutablePages pages out the test binary's code and checks
// that the file-backed resident memory went down and the process still
// runs.
func TestReleaseExecutablePages(t *testing.T) {
	before := rssFileKiB(t)
	advised, err := ReleaseExecutablePages()
	if err != nil {
		t.Fatal(err)
	}
	if advised == 0 {
		t.Fatal("no mapping of the executable was advised")
	}
	after := rssFileKiB(t)
	if after >= before {
		t.Errorf("RssFile %d KiB before, %d KiB after; want less", before, after)
	}
	t.Logf("advised %d KiB; RssFile %d -> %d KiB", advised/1024, before, after)
}

func rssFileKiB(t *testing.T) int {
	t.Helper()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "RssFile:"); ok {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}
