package volumes_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/tugcluster/tug/internal/kubelet/volumes"
	"github.com/tugcluster/tug/internal/testutil"
)

// apiEnv is a real tug server and a Manager reading from it.
type apiEnv struct {
	client kubernetes.Interface
	clock  *clocktesting.FakeClock
	m      *volumes.Manager
	ns     string
}

func newAPIEnv(t *testing.T, client kubernetes.Interface, ns string) *apiEnv {
	t.Helper()
	ctx := context.Background()
	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	clk := clocktesting.NewFakeClock(volumes.TestNow)
	m := volumes.New(volumes.Options{
		RootDir: filepath.Join(t.TempDir(), "pods"),
		Client:  client,
		NodeAllocatable: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("4Gi"),
		},
		CAPEM: []byte("test CA"),
		Clock: clk,
	})
	return &apiEnv{client: client, clock: clk, m: m, ns: ns}
}

func (e *apiEnv) pod(uid string, vols ...corev1.Volume) *corev1.Pod {
	p := volumes.PodWith(types.UID(uid), vols...)
	p.Namespace = e.ns
	p.Spec.Containers = []corev1.Container{{Name: "app", Resources: corev1.ResourceRequirements{
		Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
	}}}
	return p
}

func (e *apiEnv) configMap(t *testing.T, name string, data map[string]string, binary map[string][]byte) {
	t.Helper()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: e.ns}, Data: data, BinaryData: binary}
	ctx := context.Background()
	_, err := e.client.CoreV1().ConfigMaps(e.ns).Create(ctx, cm, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		_, err = e.client.CoreV1().ConfigMaps(e.ns).Update(ctx, cm, metav1.UpdateOptions{})
	}
	if err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func perm(t *testing.T, path string) os.FileMode {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Mode().Perm()
}

// TestAPIVolumes runs the volume types that read the API against one real
// server, a namespace per subtest.
func TestAPIVolumes(t *testing.T) {
	srv := testutil.StartServer(t)
	t.Run("configMap", func(t *testing.T) { testConfigMap(t, newAPIEnv(t, srv.Client, "cm")) })
	t.Run("configMapOptional", func(t *testing.T) { testConfigMapOptional(t, newAPIEnv(t, srv.Client, "cm-opt")) })
	t.Run("secret", func(t *testing.T) { testSecret(t, newAPIEnv(t, srv.Client, "secret")) })
	t.Run("downwardAPI", func(t *testing.T) { testDownwardAPI(t, newAPIEnv(t, srv.Client, "downward")) })
	t.Run("projected", func(t *testing.T) { testProjected(t, newAPIEnv(t, srv.Client, "projected")) })
	t.Run("persistentVolumeClaim", func(t *testing.T) { testClaims(t, newAPIEnv(t, srv.Client, "claims")) })
}

func testConfigMap(t *testing.T, e *apiEnv) {
	ctx := volumes.TestContext(t)
	e.configMap(t, "cfg", map[string]string{"a.conf": "a=1", "b.conf": "b=1", "c": "c"}, map[string][]byte{"bin": {0, 1, 2}})
	mode := int32(0o600)
	all := e.pod("uid-cm", corev1.Volume{Name: "all", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"},
	}}}, corev1.Volume{Name: "items", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"},
		DefaultMode:          ptrTo(int32(0o640)),
		Items: []corev1.KeyToPath{
			{Key: "a.conf", Path: "etc/a.conf"},
			{Key: "b.conf", Path: "b", Mode: &mode},
		},
	}}})
	volumes.TearDownAtEnd(t, e.m, all.UID)
	paths, err := e.m.SetUp(ctx, all)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(volumes.RootDir(e.m), "uid-cm/volumes/kubernetes.io~configmap/all"); paths["all"] != want {
		t.Errorf("path = %s, want %s", paths["all"], want)
	}
	if diff := cmp.Diff(map[string]string{"a.conf": "a=1", "b.conf": "b=1", "c": "c", "bin": "\x00\x01\x02"}, volumes.Visible(t, paths["all"])); diff != "" {
		t.Errorf("all keys (-want +got):\n%s", diff)
	}
	if got := perm(t, filepath.Join(paths["all"], "c")); got != 0o644 {
		t.Errorf("default mode = %v, want 0644", got)
	}
	if diff := cmp.Diff(map[string]string{"etc/a.conf": "a=1", "b": "b=1"}, volumes.Visible(t, paths["items"])); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
	if got := perm(t, filepath.Join(paths["items"], "etc/a.conf")); got != 0o640 {
		t.Errorf("defaultMode = %v, want 0640", got)
	}
	if got := perm(t, filepath.Join(paths["items"], "b")); got != 0o600 {
		t.Errorf("item mode = %v, want 0600", got)
	}

	// An update reaches the volume on the next SetUp; removed keys go.
	e.configMap(t, "cfg", map[string]string{"a.conf": "a=2", "c": "c"}, nil)
	oldTS, _ := os.Readlink(filepath.Join(paths["all"], "..data"))
	swaps := 0
	volumes.SetBeforeSwap(e.m, func() {
		swaps++
		// The running container still reads the old, complete set.
		if got := readFile(t, filepath.Join(paths["all"], "a.conf")); got != "a=1" {
			t.Errorf("a.conf before the swap = %q, want the old a=1", got)
		}
	})
	_, err = e.m.SetUp(ctx, all)
	volumes.SetBeforeSwap(e.m, nil)
	if err == nil || err.Error() != `volume "items": configmap "cfg" has no key "b.conf"` {
		t.Fatalf("SetUp after b.conf was removed: %v, want a missing key error for items", err)
	}
	if diff := cmp.Diff(map[string]string{"a.conf": "a=2", "c": "c"}, volumes.Visible(t, paths["all"])); diff != "" {
		t.Errorf("after the update (-want +got):\n%s", diff)
	}
	if swaps != 1 {
		t.Errorf("%d swaps, want 1 (the failing volume is not touched)", swaps)
	}
	if _, err := os.Stat(filepath.Join(paths["all"], oldTS)); !os.IsNotExist(err) {
		t.Errorf("old timestamped dir remains: %v", err)
	}
	if diff := cmp.Diff(map[string]string{"etc/a.conf": "a=1", "b": "b=1"}, volumes.Visible(t, paths["items"])); diff != "" {
		t.Errorf("the failing volume changed (-want +got):\n%s", diff)
	}

	missing := e.pod("uid-cm-missing", corev1.Volume{Name: "gone", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: "nope"},
	}}})
	volumes.TearDownAtEnd(t, e.m, missing.UID)
	_, err = e.m.SetUp(ctx, missing)
	if !apierrors.IsNotFound(err) || !strings.HasPrefix(err.Error(), `volume "gone": `) {
		t.Errorf("SetUp with a missing configmap: %v, want NotFound naming the volume", err)
	}
}

func testConfigMapOptional(t *testing.T, e *apiEnv) {
	ctx := volumes.TestContext(t)
	pod := e.pod("uid-opt", corev1.Volume{Name: "opt", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: "later"},
		Optional:             ptrTo(true),
		Items:                []corev1.KeyToPath{{Key: "k", Path: "k"}, {Key: "absent", Path: "absent"}},
	}}})
	volumes.TearDownAtEnd(t, e.m, pod.UID)
	paths, err := e.m.SetUp(ctx, pod)
	if err != nil {
		t.Fatal(err)
	}
	if got := volumes.Visible(t, paths["opt"]); len(got) != 0 {
		t.Errorf("optional missing configmap: content %v, want none", got)
	}
	if _, err := os.Readlink(filepath.Join(paths["opt"], "..data")); err != nil {
		t.Errorf("optional missing configmap: no ..data: %v", err)
	}
	e.configMap(t, "later", map[string]string{"k": "v"}, nil)
	if _, err := e.m.SetUp(ctx, pod); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"k": "v"}, volumes.Visible(t, paths["opt"])); diff != "" {
		t.Errorf("after the configmap appeared (-want +got):\n%s", diff)
	}
}

func testSecret(t *testing.T, e *apiEnv) {
	ctx := volumes.TestContext(t)
	_, err := e.client.CoreV1().Secrets(e.ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "creds"},
		Data:       map[string][]byte{"user": []byte("admin")},
		StringData: map[string]string{"pass": "hunter2"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	gid := int64(3000)
	pod := e.pod("uid-secret",
		corev1.Volume{Name: "s", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "creds"}}},
		corev1.Volume{Name: "ro", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "creds", DefaultMode: ptrTo(int32(0o400))}}},
		corev1.Volume{Name: "absent", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "nope", Optional: ptrTo(true)}}},
	)
	pod.Spec.SecurityContext = &corev1.PodSecurityContext{FSGroup: &gid}
	volumes.TearDownAtEnd(t, e.m, pod.UID)
	paths, err := e.m.SetUp(ctx, pod)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(volumes.RootDir(e.m), "uid-secret/volumes/kubernetes.io~secret/s"); paths["s"] != want {
		t.Errorf("path = %s, want %s", paths["s"], want)
	}
	if diff := cmp.Diff(map[string]string{"user": "admin", "pass": "hunter2"}, volumes.Visible(t, paths["s"])); diff != "" {
		t.Errorf("secret (-want +got):\n%s", diff)
	}
	for vol, want := range map[string]os.FileMode{"s": 0o644, "ro": 0o440} {
		path := filepath.Join(paths[vol], "user")
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != want || info.Sys().(*syscall.Stat_t).Gid != 3000 {
			t.Errorf("%s: mode %v gid %d, want %v and the fsGroup", vol, info.Mode().Perm(), info.Sys().(*syscall.Stat_t).Gid, want)
		}
	}
	if info, err := os.Stat(paths["s"]); err != nil || info.Mode()&os.ModeSetgid == 0 {
		t.Errorf("secret volume dir is not setgid: %v, %v", info.Mode(), err)
	}
	if got := volumes.Visible(t, paths["absent"]); len(got) != 0 {
		t.Errorf("optional missing secret: %v", got)
	}
}

func testDownwardAPI(t *testing.T, e *apiEnv) {
	ctx := volumes.TestContext(t)
	pod := e.pod("uid-downward", corev1.Volume{Name: "info", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{
		Items: []corev1.DownwardAPIVolumeFile{
			{Path: "name", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}},
			{Path: "labels", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels"}},
			{Path: "mem_limit", ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "app", Resource: "limits.memory", Divisor: resource.MustParse("1Mi")}},
			{Path: "cpu_limit", Mode: ptrTo(int32(0o400)), ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "app", Resource: "limits.cpu"}},
		},
	}}})
	pod.Labels = map[string]string{"app": "web"}
	volumes.TearDownAtEnd(t, e.m, pod.UID)
	paths, err := e.m.SetUp(ctx, pod)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(volumes.RootDir(e.m), "uid-downward/volumes/kubernetes.io~downward-api/info"); paths["info"] != want {
		t.Errorf("path = %s, want %s", paths["info"], want)
	}
	want := map[string]string{"name": "p", "labels": `app="web"`, "mem_limit": "256", "cpu_limit": "2"}
	if diff := cmp.Diff(want, volumes.Visible(t, paths["info"])); diff != "" {
		t.Errorf("downward API (-want +got):\n%s", diff)
	}
	if got := perm(t, filepath.Join(paths["info"], "cpu_limit")); got != 0o400 {
		t.Errorf("item mode = %v, want 0400", got)
	}
	pod.Labels["tier"] = "front"
	if _, err := e.m.SetUp(ctx, pod); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(paths["info"], "labels")); got != "app=\"web\"\ntier=\"front\"" {
		t.Errorf("labels after a change = %q", got)
	}
	pod.Spec.Volumes[0].DownwardAPI.Items = append(pod.Spec.Volumes[0].DownwardAPI.Items,
		corev1.DownwardAPIVolumeFile{Path: "bad", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nope"}})
	if _, err := e.m.SetUp(ctx, pod); err == nil || !strings.Contains(err.Error(), "spec.nope") {
		t.Errorf("SetUp with a bad field path: %v", err)
	}
}

// kubeAPIAccess is the volume the service account admission adds.
func kubeAPIAccess() corev1.Volume {
	return corev1.Volume{Name: "kube-api-access-x7k2p", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		DefaultMode: ptrTo(int32(0o644)),
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptrTo(int64(3607))}},
			{ConfigMap: &corev1.ConfigMapProjection{
				LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"},
				Items:                []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}},
			}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{
				Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"},
			}}}},
		},
	}}}
}

func testProjected(t *testing.T, e *apiEnv) {
	ctx := volumes.TestContext(t)
	e.configMap(t, "settings", map[string]string{"mode": "fast", "other": "x"}, nil)
	if _, err := e.client.CoreV1().Secrets(e.ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "key"}, Data: map[string][]byte{"tls.key": []byte("KEY")},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := e.pod("uid-projected", corev1.Volume{Name: "all-in-one", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		DefaultMode: ptrTo(int32(0o440)),
		Sources: []corev1.VolumeProjection{
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "settings"},
				Items: []corev1.KeyToPath{{Key: "mode", Path: "conf/mode"}}}},
			{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "key"},
				Items: []corev1.KeyToPath{{Key: "tls.key", Path: "tls/key", Mode: ptrTo(int32(0o400))}}}},
			{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "nope"}, Optional: ptrTo(true)}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{
				{Path: "uid", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.uid"}},
			}}},
		},
	}}})
	volumes.TearDownAtEnd(t, e.m, pod.UID)
	paths, err := e.m.SetUp(ctx, pod)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(volumes.RootDir(e.m), "uid-projected/volumes/kubernetes.io~projected/all-in-one"); paths["all-in-one"] != want {
		t.Errorf("path = %s, want %s", paths["all-in-one"], want)
	}
	want := map[string]string{"conf/mode": "fast", "tls/key": "KEY", "uid": "uid-projected"}
	if diff := cmp.Diff(want, volumes.Visible(t, paths["all-in-one"])); diff != "" {
		t.Errorf("projected (-want +got):\n%s", diff)
	}
	for path, want := range map[string]os.FileMode{"conf/mode": 0o440, "tls/key": 0o400, "uid": 0o440} {
		if got := perm(t, filepath.Join(paths["all-in-one"], path)); got != want {
			t.Errorf("mode of %s = %v, want %v", path, got, want)
		}
	}

	// A non-optional missing source fails the volume.
	pod.Spec.Volumes[0].Projected.Sources[2].Secret.Optional = nil
	if _, err := e.m.SetUp(ctx, pod); !apierrors.IsNotFound(err) {
		t.Errorf("SetUp with a missing non-optional secret source: %v, want NotFound", err)
	}
}

func testClaims(t *testing.T, e *apiEnv) {
	ctx := volumes.TestContext(t)
	hostDir := t.TempDir()
	localDir := t.TempDir()
	pvs := []*corev1.PersistentVolume{
		{ObjectMeta: metav1.ObjectMeta{Name: e.ns + "-host"}, Spec: corev1.PersistentVolumeSpec{
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: hostDir}},
		}},
		{ObjectMeta: metav1.ObjectMeta{Name: e.ns + "-local"}, Spec: corev1.PersistentVolumeSpec{
			PersistentVolumeSource: corev1.PersistentVolumeSource{Local: &corev1.LocalVolumeSource{Path: localDir}},
			NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "kubernetes.io/hostname", Operator: corev1.NodeSelectorOpIn, Values: []string{"node-1"}}},
			}}}},
		}},
		{ObjectMeta: metav1.ObjectMeta{Name: e.ns + "-nfs"}, Spec: corev1.PersistentVolumeSpec{
			PersistentVolumeSource: corev1.PersistentVolumeSource{NFS: &corev1.NFSVolumeSource{Server: "192.0.2.1", Path: "/export"}},
		}},
	}
	bind := map[string]string{}
	for _, pv := range pvs {
		pv.Spec.Capacity = corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}
		pv.Spec.AccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}
		if _, err := e.client.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		claim := strings.TrimPrefix(pv.Name, e.ns+"-")
		bind[claim] = pv.Name
	}
	bind["pending"] = ""
	for claim, pv := range bind {
		pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: claim}, Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
			VolumeName:  pv,
		}}
		created, err := e.client.CoreV1().PersistentVolumeClaims(e.ns).Create(ctx, pvc, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if pv == "" {
			continue
		}
		// No binder runs in this server: bind as the controller would.
		created.Status.Phase = corev1.ClaimBound
		if _, err := e.client.CoreV1().PersistentVolumeClaims(e.ns).UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	claimVol := func(claim string) corev1.Volume {
		return corev1.Volume{Name: claim, VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}}
	}
	pod := e.pod("uid-claims", claimVol("host"), claimVol("local"))
	volumes.TearDownAtEnd(t, e.m, pod.UID)
	paths, err := e.m.SetUp(ctx, pod)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"host": hostDir, "local": localDir}, paths); diff != "" {
		t.Errorf("claim paths (-want +got):\n%s", diff)
	}
	for claim, wantErr := range map[string]string{
		"pending": `volume "pending": persistentvolumeclaim "pending" is not bound`,
		"nfs":     `volume "nfs": persistentvolume "claims-nfs": only hostPath and local volumes are supported on this node`,
		"missing": `volume "missing": persistentvolumeclaims "missing" not found`,
	} {
		_, err := e.m.SetUp(ctx, e.pod("uid-claims", claimVol(claim)))
		if err == nil || err.Error() != wantErr {
			t.Errorf("claim %s: error %v, want %q", claim, err, wantErr)
		}
	}

	// A generic ephemeral volume uses the claim named <pod>-<volume>.
	eph := e.pod("uid-eph", corev1.Volume{Name: "host", VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{}}})
	eph.Name = "ephemeral"
	if _, err := e.m.SetUp(ctx, eph); err == nil || !strings.Contains(err.Error(), `"ephemeral-host" not found`) {
		t.Errorf("ephemeral volume: %v, want the claim ephemeral-host looked up", err)
	}
}

func ptrTo[T any](v T) *T { return &v }
