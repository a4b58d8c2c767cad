package volumes

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2/ktesting"
	clocktesting "k8s.io/utils/clock/testing"
)

func newLocalManager(t *testing.T) *Manager {
	t.Helper()
	return New(Options{
		RootDir:         filepath.Join(t.TempDir(), "pods"),
		NodeAllocatable: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")},
		Clock:           clocktesting.NewFakeClock(testNow),
	})
}

func podWith(uid types.UID, vols ...corev1.Volume) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default", UID: uid},
		Spec:       corev1.PodSpec{Volumes: vols},
	}
}

// tearDown removes the pod's volumes when the test ends, so that no tmpfs
// outlives it whatever failed.
func tearDown(t *testing.T, m *Manager, uid types.UID) {
	t.Cleanup(func() {
		if err := m.TearDown(context.Background(), uid); err != nil {
			t.Errorf("TearDown: %v", err)
		}
	})
}

func testContext(t *testing.T) context.Context {
	_, ctx := ktesting.NewTestContext(t)
	return ctx
}

func ptrTo[T any](v T) *T { return &v }

func TestEmptyDir(t *testing.T) {
	ctx := testContext(t)
	m := newLocalManager(t)
	gid := int64(2000)
	pod := podWith("uid-empty",
		corev1.Volume{Name: "disk", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		corev1.Volume{Name: "mem", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{
			Medium: corev1.StorageMediumMemory, SizeLimit: resource.NewQuantity(8<<20, resource.BinarySI),
		}}},
		corev1.Volume{Name: "mem-default", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}}},
	)
	pod.Spec.SecurityContext = &corev1.PodSecurityContext{FSGroup: &gid}
	tearDown(t, m, pod.UID)
	paths, err := m.SetUp(ctx, pod)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"disk":        filepath.Join(m.opts.RootDir, "uid-empty/volumes/kubernetes.io~empty-dir/disk"),
		"mem":         filepath.Join(m.opts.RootDir, "uid-empty/volumes/kubernetes.io~empty-dir/mem"),
		"mem-default": filepath.Join(m.opts.RootDir, "uid-empty/volumes/kubernetes.io~empty-dir/mem-default"),
	}
	if diff := cmp.Diff(want, paths); diff != "" {
		t.Fatalf("paths (-want +got):\n%s", diff)
	}
	for name, path := range paths {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		st := info.Sys().(*syscall.Stat_t)
		if info.Mode().Perm() != 0o777 || info.Mode()&os.ModeSetgid == 0 || st.Gid != 2000 {
			t.Errorf("%s: mode %v group %d, want 0777 with setgid, group 2000", name, info.Mode(), st.Gid)
		}
	}
	var fs unix.Statfs_t
	if err := unix.Statfs(paths["mem"], &fs); err != nil {
		t.Fatal(err)
	}
	if fs.Type != unix.TMPFS_MAGIC || uint64(fs.Blocks)*uint64(fs.Bsize) != 8<<20 {
		t.Errorf("mem: fs type %x size %d, want tmpfs of 8Mi", fs.Type, uint64(fs.Blocks)*uint64(fs.Bsize))
	}
	if err := unix.Statfs(paths["mem-default"], &fs); err != nil {
		t.Fatal(err)
	}
	if fs.Type != unix.TMPFS_MAGIC || uint64(fs.Blocks)*uint64(fs.Bsize) != 64<<20 {
		t.Errorf("mem-default: fs type %x size %d, want tmpfs of the node's 64Mi", fs.Type, uint64(fs.Blocks)*uint64(fs.Bsize))
	}
	if err := unix.Statfs(paths["disk"], &fs); err != nil {
		t.Fatal(err)
	}
	if fs.Type == unix.TMPFS_MAGIC {
		if mounted, _ := isMountPoint(paths["disk"]); mounted {
			t.Error("the disk emptyDir is a mount")
		}
	}

	// SetUp again keeps content and mounts exactly once.
	for _, name := range []string{"disk", "mem"} {
		if err := os.WriteFile(filepath.Join(paths[name], "f"), []byte("kept"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.SetUp(ctx, pod); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"disk", "mem"} {
		if data, err := os.ReadFile(filepath.Join(paths[name], "f")); err != nil || string(data) != "kept" {
			t.Errorf("%s lost its content on the second SetUp: %q, %v", name, data, err)
		}
	}
	points, err := mountPoints()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range points {
		if p == paths["mem"] {
			n++
		}
	}
	if n != 1 {
		t.Errorf("mem is mounted %d times, want 1", n)
	}

	if err := m.TearDown(ctx, pod.UID); err != nil {
		t.Fatal(err)
	}
	if mounted, _ := isMountPoint(paths["mem"]); mounted {
		t.Error("tmpfs still mounted after TearDown")
	}
	if _, err := os.Stat(m.podDir(pod.UID)); !os.IsNotExist(err) {
		t.Errorf("pod dir remains after TearDown: %v", err)
	}
	if err := m.TearDown(ctx, pod.UID); err != nil {
		t.Errorf("second TearDown: %v", err)
	}
}

func TestHostPath(t *testing.T) {
	ctx := testContext(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()

	typ := func(t corev1.HostPathType) *corev1.HostPathType { return &t }
	tests := []struct {
		name    string
		path    string
		typ     *corev1.HostPathType
		wantErr string
		check   func(t *testing.T, path string)
	}{
		{name: "no type, missing", path: filepath.Join(dir, "missing")},
		{name: "empty type", path: dir, typ: typ(corev1.HostPathUnset)},
		{name: "directory", path: dir, typ: typ(corev1.HostPathDirectory)},
		{name: "directory missing", path: filepath.Join(dir, "nope"), typ: typ(corev1.HostPathDirectory), wantErr: "does not exist"},
		{name: "directory is a file", path: file, typ: typ(corev1.HostPathDirectory), wantErr: "is not a directory"},
		{name: "directory or create", path: filepath.Join(dir, "new/deep"), typ: typ(corev1.HostPathDirectoryOrCreate), check: func(t *testing.T, path string) {
			if info, err := os.Stat(path); err != nil || !info.IsDir() || info.Mode().Perm() != 0o755 {
				t.Errorf("created dir: %v, %v", info, err)
			}
		}},
		{name: "directory or create on a file", path: file, typ: typ(corev1.HostPathDirectoryOrCreate), wantErr: "is not a directory"},
		{name: "file", path: file, typ: typ(corev1.HostPathFile)},
		{name: "file is a dir", path: dir, typ: typ(corev1.HostPathFile), wantErr: "is not a file"},
		{name: "file or create", path: filepath.Join(dir, "made"), typ: typ(corev1.HostPathFileOrCreate), check: func(t *testing.T, path string) {
			if info, err := os.Stat(path); err != nil || !info.Mode().IsRegular() {
				t.Errorf("created file: %v, %v", info, err)
			}
		}},
		{name: "file or create, parent missing", path: filepath.Join(dir, "no/parent"), typ: typ(corev1.HostPathFileOrCreate), wantErr: "no such file"},
		{name: "file or create on a dir", path: dir, typ: typ(corev1.HostPathFileOrCreate), wantErr: "is not a file"},
		{name: "socket", path: sock, typ: typ(corev1.HostPathSocket)},
		{name: "socket is a file", path: file, typ: typ(corev1.HostPathSocket), wantErr: "is not a socket"},
		{name: "char device", path: "/dev/null", typ: typ(corev1.HostPathCharDev)},
		{name: "char device is a file", path: file, typ: typ(corev1.HostPathCharDev), wantErr: "is not a character device"},
		{name: "block device is a char device", path: "/dev/null", typ: typ(corev1.HostPathBlockDev), wantErr: "is not a block device"},
		{name: "relative", path: "rel/path", wantErr: "not absolute"},
	}
	m := newLocalManager(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pod := podWith("uid-host", corev1.Volume{Name: "h", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: tc.path, Type: tc.typ}}})
			paths, err := m.SetUp(ctx, pod)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), `volume "h"`) {
					t.Fatalf("SetUp error = %v, want one naming the volume and %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if paths["h"] != tc.path {
				t.Errorf("path = %q, want %q", paths["h"], tc.path)
			}
			if tc.check != nil {
				tc.check(t, tc.path)
			}
		})
	}
}

func TestUnsupportedVolume(t *testing.T) {
	m := newLocalManager(t)
	pod := podWith("uid-nfs",
		corev1.Volume{Name: "share", VolumeSource: corev1.VolumeSource{NFS: &corev1.NFSVolumeSource{Server: "192.0.2.1", Path: "/x"}}},
		corev1.Volume{Name: "ok", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
	)
	tearDown(t, m, pod.UID)
	paths, err := m.SetUp(testContext(t), pod)
	if err == nil || err.Error() != `volume "share": unsupported volume type nfs` {
		t.Errorf("SetUp error = %v, want the unsupported nfs volume named", err)
	}
	if paths["ok"] == "" {
		t.Error("the other volume was not set up")
	}
}

func TestPodDirs(t *testing.T) {
	ctx := testContext(t)
	m := newLocalManager(t)
	if uids, err := m.PodDirs(); err != nil || len(uids) != 0 {
		t.Fatalf("PodDirs before any pod = %v, %v", uids, err)
	}
	for _, uid := range []types.UID{"a", "b"} {
		tearDown(t, m, uid)
		if _, err := m.SetUp(ctx, podWith(uid, corev1.Volume{Name: "e", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})); err != nil {
			t.Fatal(err)
		}
	}
	uids, err := m.PodDirs()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]types.UID{"a", "b"}, uids); diff != "" {
		t.Errorf("PodDirs (-want +got):\n%s", diff)
	}
	if err := m.TearDown(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if uids, _ := m.PodDirs(); !cmp.Equal(uids, []types.UID{"b"}) {
		t.Errorf("PodDirs after tearing down a = %v, want [b]", uids)
	}
}

func TestMounts(t *testing.T) {
	ctx := testContext(t)
	m := newLocalManager(t)
	outside := t.TempDir()
	hostDir := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(hostDir, "escape")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(hostDir, "real"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real", filepath.Join(hostDir, "inside")); err != nil {
		t.Fatal(err)
	}
	bidi := corev1.MountPropagationBidirectional
	h2c := corev1.MountPropagationHostToContainer
	claimRO := corev1.Volume{Name: "claim", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "c", ReadOnly: true}}}
	pod := podWith("uid-mounts",
		corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		corev1.Volume{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: hostDir}}},
		corev1.Volume{Name: "cfg", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{
			{Path: "name", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}},
		}}}},
	)
	tearDown(t, m, pod.UID)
	paths, err := m.SetUp(ctx, pod)
	if err != nil {
		t.Fatal(err)
	}
	// The claim is not set up here; its path is given as SetUp would.
	pod.Spec.Volumes = append(pod.Spec.Volumes, claimRO)
	paths["claim"] = hostDir
	env := map[string]string{"POD": "p", "EMPTY": ""}

	tests := []struct {
		name    string
		mount   corev1.VolumeMount
		c       corev1.Container
		want    *runtimeapi.Mount
		wantErr string
		check   func(t *testing.T)
	}{
		{name: "plain", mount: corev1.VolumeMount{Name: "data", MountPath: "/data"},
			want: &runtimeapi.Mount{ContainerPath: "/data", HostPath: paths["data"]}},
		{name: "read only", mount: corev1.VolumeMount{Name: "data", MountPath: "/data", ReadOnly: true},
			want: &runtimeapi.Mount{ContainerPath: "/data", HostPath: paths["data"], Readonly: true}},
		{name: "API data is always read only", mount: corev1.VolumeMount{Name: "cfg", MountPath: "/etc/podinfo"},
			want: &runtimeapi.Mount{ContainerPath: "/etc/podinfo", HostPath: paths["cfg"], Readonly: true}},
		{name: "read-only claim", mount: corev1.VolumeMount{Name: "claim", MountPath: "/c"},
			want: &runtimeapi.Mount{ContainerPath: "/c", HostPath: hostDir, Readonly: true}},
		{name: "subPath created", mount: corev1.VolumeMount{Name: "data", MountPath: "/logs", SubPath: "a/b"},
			want: &runtimeapi.Mount{ContainerPath: "/logs", HostPath: filepath.Join(paths["data"], "a/b")},
			check: func(t *testing.T) {
				info, err := os.Stat(filepath.Join(paths["data"], "a/b"))
				if err != nil || !info.IsDir() || info.Mode().Perm() != 0o777 {
					t.Errorf("subPath dir: %v, %v; want a dir with the volume's mode", info, err)
				}
			}},
		{name: "subPathExpr", mount: corev1.VolumeMount{Name: "data", MountPath: "/x", SubPathExpr: "pods/$(POD)/$$keep"},
			want: &runtimeapi.Mount{ContainerPath: "/x", HostPath: filepath.Join(paths["data"], "pods/p/$keep")}},
		{name: "subPathExpr missing var", mount: corev1.VolumeMount{Name: "data", MountPath: "/x", SubPathExpr: "$(NOPE)/$(EMPTY)"},
			wantErr: "missing value for EMPTY, NOPE"},
		{name: "subPath through an inner link", mount: corev1.VolumeMount{Name: "host", MountPath: "/i", SubPath: "inside"},
			want: &runtimeapi.Mount{ContainerPath: "/i", HostPath: filepath.Join(hostDir, "real")}},
		{name: "subPath escaping through a link", mount: corev1.VolumeMount{Name: "host", MountPath: "/e", SubPath: "escape"},
			wantErr: "leads out of the volume"},
		{name: "new subPath through an escaping link", mount: corev1.VolumeMount{Name: "host", MountPath: "/e", SubPath: "escape/made"},
			wantErr: "leads out of the volume"},
		{name: "subPath with ..", mount: corev1.VolumeMount{Name: "host", MountPath: "/e", SubPath: "real/../../x"},
			wantErr: "must not contain '..'"},
		{name: "absolute subPath", mount: corev1.VolumeMount{Name: "host", MountPath: "/e", SubPath: "/etc"},
			wantErr: "must be relative"},
		{name: "host to container", mount: corev1.VolumeMount{Name: "host", MountPath: "/h", MountPropagation: &h2c},
			want: &runtimeapi.Mount{ContainerPath: "/h", HostPath: hostDir, Propagation: runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER}},
		{name: "bidirectional unprivileged", mount: corev1.VolumeMount{Name: "host", MountPath: "/h", MountPropagation: &bidi},
			wantErr: "privileged"},
		{name: "bidirectional privileged", mount: corev1.VolumeMount{Name: "host", MountPath: "/h", MountPropagation: &bidi},
			c:    corev1.Container{SecurityContext: &corev1.SecurityContext{Privileged: ptrTo(true)}},
			want: &runtimeapi.Mount{ContainerPath: "/h", HostPath: hostDir, Propagation: runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL}},
		{name: "unknown volume", mount: corev1.VolumeMount{Name: "nope", MountPath: "/n"}, wantErr: "no such volume"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.c
			c.Name = "app"
			c.VolumeMounts = []corev1.VolumeMount{tc.mount}
			mounts, err := m.Mounts(pod, &c, paths, env)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Mounts error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(mounts) != 1 {
				t.Fatalf("%d mounts, want 1", len(mounts))
			}
			if tc.want != nil {
				if diff := cmp.Diff(tc.want, mounts[0], cmpProto); diff != "" {
					t.Errorf("mount (-want +got):\n%s", diff)
				}
			}
			if tc.check != nil {
				tc.check(t)
			}
		})
	}

	if _, err := os.Lstat(filepath.Join(outside, "made")); !os.IsNotExist(err) {
		t.Errorf("a subPath made a dir outside the volume: %v", err)
	}

	// A subPath of an API data file is the current file itself, not the
	// link: the runtime mounts exactly what was checked.
	c := corev1.Container{Name: "app", VolumeMounts: []corev1.VolumeMount{{Name: "cfg", MountPath: "/name", SubPath: "name"}}}
	mounts, err := m.Mounts(pod, &c, paths, env)
	if err != nil {
		t.Fatal(err)
	}
	ts, _ := os.Readlink(filepath.Join(paths["cfg"], "..data"))
	if want := filepath.Join(paths["cfg"], ts, "name"); mounts[0].HostPath != want || !mounts[0].Readonly {
		t.Errorf("subPath of API data = %+v, want %s read-only", mounts[0], want)
	}
	if _, err := m.Mounts(pod, &corev1.Container{Name: "app", VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/d"}}}, map[string]string{}, nil); err == nil || !strings.Contains(err.Error(), "not set up") {
		t.Errorf("Mounts without the volume's path: %v", err)
	}
}

var cmpProto = cmp.Comparer(func(a, b *runtimeapi.Mount) bool {
	return a.ContainerPath == b.ContainerPath && a.HostPath == b.HostPath && a.Readonly == b.Readonly &&
		a.Propagation == b.Propagation && a.SelinuxRelabel == b.SelinuxRelabel
})

func TestExpandEnv(t *testing.T) {
	env := map[string]string{"A": "a", "B": "b"}
	tests := []struct {
		in, want, wantErr string
	}{
		{in: "plain", want: "plain"},
		{in: "$(A)/$(B)", want: "a/b"},
		{in: "$$(A)", want: "$(A)"},
		{in: "x$", want: "x$"},
		{in: "$x", want: "$x"},
		{in: "$(A", want: "$(A"},
		{in: "$(C)", wantErr: "missing value for C"},
	}
	for _, tc := range tests {
		got, err := expandEnv(tc.in, env)
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("expandEnv(%q) error = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("expandEnv(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestTearDownRefusesWithMountLeft(t *testing.T) {
	// A tmpfs that cannot be unmounted must stop the removal: nothing is
	// deleted through a mount. An open file keeps the tmpfs busy, so the
	// unmount fails with EBUSY.
	ctx := testContext(t)
	m := newLocalManager(t)
	pod := podWith("uid-busy", corev1.Volume{Name: "mem", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}}})
	tearDown(t, m, pod.UID)
	paths, err := m.SetUp(ctx, pod)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(paths["mem"], "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(paths["mem"], "f"))
	if err != nil {
		t.Fatal(err)
	}
	err = m.TearDown(ctx, pod.UID)
	_ = f.Close()
	if err == nil {
		t.Fatal("TearDown succeeded while the tmpfs was busy")
	}
	if !errors.Is(err, unix.EBUSY) {
		t.Errorf("TearDown error = %v, want EBUSY", err)
	}
	if _, err := os.Stat(filepath.Join(paths["mem"], "f")); err != nil {
		t.Errorf("content under the busy mount was removed: %v", err)
	}
}
