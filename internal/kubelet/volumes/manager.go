package volumes

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
)

// Plugin directory names under a pod's volumes dir, as Kubernetes names
// them.
const (
	pluginEmptyDir    = "kubernetes.io~empty-dir"
	pluginConfigMap   = "kubernetes.io~configmap"
	pluginSecret      = "kubernetes.io~secret"
	pluginDownwardAPI = "kubernetes.io~downward-api"
	pluginProjected   = "kubernetes.io~projected"
)

// Options configure a Manager.
type Options struct {
	// RootDir holds one dir per pod UID: <data-dir>/agent/pods. Required.
	RootDir string
	// Client reads ConfigMaps, Secrets, PVCs and PVs and requests
	// service-account tokens. Required for any volume of API data.
	Client kubernetes.Interface
	// NodeName is the node the pods run on, named in the logs. Default:
	// none.
	NodeName string
	// NodeAllocatable sizes memory-backed emptyDirs without a sizeLimit and
	// stands in for unset limits in downwardAPI resource files. Default:
	// none (such tmpfs mounts get the kernel's default size).
	NodeAllocatable corev1.ResourceList
	// CAPEM is the cluster CA. It is ca.crt of kube-api-access volumes while
	// the kube-root-ca.crt ConfigMap of a new namespace is not published
	// yet, so that a pod does not wait on the controller. Default: none.
	CAPEM []byte
	// Clock times token refreshes and names timestamped dirs. Default: the
	// real clock.
	Clock clock.Clock
}

// Validate reports options New cannot work with.
func (o Options) Validate() error {
	if o.RootDir == "" {
		return errors.New("volumes: RootDir is required")
	}
	return nil
}

// Manager sets up and tears down pods' volumes. Its methods are safe for
// concurrent use; calls for one pod must not overlap (a pod worker makes
// them in turn).
type Manager struct {
	opts Options

	mu     sync.Mutex
	tokens map[tokenKey]*cachedToken

	// beforeSwap is a test hook: see atomicWriter.beforeSwap.
	beforeSwap func()
}

// New returns a Manager; opts should pass Validate.
func New(opts Options) *Manager {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	return &Manager{opts: opts, tokens: map[tokenKey]*cachedToken{}}
}

// podDir is where everything of a pod lives.
func (m *Manager) podDir(uid types.UID) string {
	return filepath.Join(m.opts.RootDir, string(uid))
}

func (m *Manager) volumeDir(uid types.UID, plugin, name string) string {
	return filepath.Join(m.podDir(uid), "volumes", plugin, name)
}

// SetUp makes every volume of pod exist and be current, and returns each
// volume's host path by name. It is idempotent and meant to run on every
// pod sync: API data volumes are rewritten atomically when their sources
// changed. Volumes are set up independently; the error joins one error per
// failed volume, each naming it, and is worth retrying (a missing ConfigMap
// may appear, a PVC may bind).
func (m *Manager) SetUp(ctx context.Context, pod *corev1.Pod) (map[string]string, error) {
	logger := klog.FromContext(ctx)
	paths := make(map[string]string, len(pod.Spec.Volumes))
	var errs []error
	for i := range pod.Spec.Volumes {
		vol := &pod.Spec.Volumes[i]
		path, err := m.setUpVolume(ctx, pod, vol)
		if err != nil {
			errs = append(errs, fmt.Errorf("volume %q: %w", vol.Name, err))
			continue
		}
		logger.V(6).Info("Volume set up", "node", m.opts.NodeName, "pod", klog.KObj(pod), "volume", vol.Name, "path", path)
		paths[vol.Name] = path
	}
	return paths, errors.Join(errs...)
}

func (m *Manager) setUpVolume(ctx context.Context, pod *corev1.Pod, vol *corev1.Volume) (string, error) {
	src := &vol.VolumeSource
	switch {
	case src.EmptyDir != nil:
		return m.setUpEmptyDir(pod, vol.Name, src.EmptyDir)
	case src.HostPath != nil:
		return setUpHostPath(src.HostPath)
	case src.ConfigMap != nil:
		return m.writeData(pod, pluginConfigMap, vol.Name, func() (map[string]file, error) {
			return m.configMapPayload(ctx, pod, src.ConfigMap)
		})
	case src.Secret != nil:
		return m.writeData(pod, pluginSecret, vol.Name, func() (map[string]file, error) {
			return m.secretPayload(ctx, pod, src.Secret)
		})
	case src.DownwardAPI != nil:
		return m.writeData(pod, pluginDownwardAPI, vol.Name, func() (map[string]file, error) {
			return m.downwardAPIPayload(pod, src.DownwardAPI.Items, modeOr(src.DownwardAPI.DefaultMode, corev1.DownwardAPIVolumeSourceDefaultMode))
		})
	case src.Projected != nil:
		return m.writeData(pod, pluginProjected, vol.Name, func() (map[string]file, error) {
			return m.projectedPayload(ctx, pod, src.Projected)
		})
	case src.PersistentVolumeClaim != nil:
		return m.claimPath(ctx, pod.Namespace, src.PersistentVolumeClaim.ClaimName)
	case src.Ephemeral != nil:
		// A generic ephemeral volume is a PVC the ephemeral volume
		// controller names after the pod and the volume.
		return m.claimPath(ctx, pod.Namespace, pod.Name+"-"+vol.Name)
	}
	return "", fmt.Errorf("unsupported volume type %s", volumeType(src))
}

// writeData writes the files payload returns into the volume's dir.
func (m *Manager) writeData(pod *corev1.Pod, plugin, name string, payload func() (map[string]file, error)) (string, error) {
	files, err := payload()
	if err != nil {
		return "", err
	}
	dir := m.volumeDir(pod.UID, plugin, name)
	w := &atomicWriter{dir: dir, fsGroup: fsGroup(pod), now: m.opts.Clock.Now(), beforeSwap: m.beforeSwap}
	if err := w.write(files); err != nil {
		return "", err
	}
	return dir, nil
}

func fsGroup(pod *corev1.Pod) *int64 {
	if sc := pod.Spec.SecurityContext; sc != nil {
		return sc.FSGroup
	}
	return nil
}

func modeOr(mode *int32, def int32) int32 {
	if mode != nil {
		return *mode
	}
	return def
}

// TearDown unmounts what SetUp mounted for the pod (tmpfs emptyDirs) and
// removes the pod's dir. It is idempotent. Nothing is removed while a
// mount remains, so that a failed unmount never deletes through it.
func (m *Manager) TearDown(ctx context.Context, podUID types.UID) error {
	m.forgetTokens(podUID)
	dir := m.podDir(podUID)
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err := unmountUnder(dir); err != nil {
		return fmt.Errorf("tear down volumes of pod %s: %w", podUID, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("tear down volumes of pod %s: %w", podUID, err)
	}
	klog.FromContext(ctx).V(4).Info("Pod volumes torn down", "node", m.opts.NodeName, "podUID", podUID)
	return nil
}

// PodDirs lists the UIDs of the pods that have a dir under RootDir, so
// that the kubelet can tear down those of pods that are gone.
func (m *Manager) PodDirs() ([]types.UID, error) {
	entries, err := os.ReadDir(m.opts.RootDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list pod dirs: %w", err)
	}
	var uids []types.UID
	for _, e := range entries {
		if e.IsDir() {
			uids = append(uids, types.UID(e.Name()))
		}
	}
	return uids, nil
}

// volumeType names the (first) set field of src for the error about an
// unsupported type.
func volumeType(src *corev1.VolumeSource) string {
	switch {
	case src.NFS != nil:
		return "nfs"
	case src.ISCSI != nil:
		return "iscsi"
	case src.CSI != nil:
		return "csi"
	case src.Image != nil:
		return "image"
	case src.GitRepo != nil:
		return "gitRepo"
	case src.FC != nil:
		return "fc"
	case src.Glusterfs != nil:
		return "glusterfs"
	case src.RBD != nil:
		return "rbd"
	case src.CephFS != nil:
		return "cephfs"
	case src.AzureFile != nil:
		return "azureFile"
	case src.AzureDisk != nil:
		return "azureDisk"
	case src.GCEPersistentDisk != nil:
		return "gcePersistentDisk"
	case src.AWSElasticBlockStore != nil:
		return "awsElasticBlockStore"
	}
	return "(none or unknown)"
}
