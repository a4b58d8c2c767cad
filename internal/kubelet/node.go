package kubelet

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/version"
)

// Node heartbeat timing, as the kubelet's defaults: the Lease is renewed
// every 10 s and lasts 40 s; status is posted when it changes, and at
// least every minute.
const (
	leaseDurationSeconds = 40
	leaseRenewInterval   = 10 * time.Second
	statusCheckInterval  = 10 * time.Second
	statusReportInterval = time.Minute
)

// memoryReserved is kept out of allocatable memory, as the kubelet's
// default hard eviction threshold (memory.available<100Mi).
var memoryReserved = resource.MustParse("100Mi")

// nodeInfo is what the kubelet knows of its Node.
type nodeInfo struct {
	mu          sync.Mutex
	uid         types.UID
	podCIDRs    []string
	capacity    corev1.ResourceList
	allocatable corev1.ResourceList
	heartbeat   time.Time
	// status is the status last posted, without heartbeat times.
	status *corev1.NodeStatus
}

func (n *nodeInfo) allocatableCopy() corev1.ResourceList {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.allocatable.DeepCopy()
}

// machineCapacity reads the machine's CPUs, memory and disk.
func machineCapacity(cfg Config) (corev1.ResourceList, error) {
	memory, err := memTotal()
	if err != nil {
		return nil, err
	}
	var fs syscall.Statfs_t
	if err := syscall.Statfs(cfg.RootDir, &fs); err != nil {
		return nil, fmt.Errorf("kubelet: disk size of %s: %w", cfg.RootDir, err)
	}
	return corev1.ResourceList{
		corev1.ResourceCPU:              *resource.NewQuantity(int64(runtime.NumCPU()), resource.DecimalSI),
		corev1.ResourceMemory:           *resource.NewQuantity(memory, resource.BinarySI),
		corev1.ResourceEphemeralStorage: *resource.NewQuantity(int64(fs.Blocks)*fs.Bsize, resource.BinarySI),
		corev1.ResourcePods:             *resource.NewQuantity(int64(cfg.MaxPods), resource.DecimalSI),
		"hugepages-2Mi":                 resource.MustParse("0"),
	}, nil
}

// machineAllocatable is capacity less the memory kept for the system.
func machineAllocatable(cfg Config) (corev1.ResourceList, error) {
	capacity, err := machineCapacity(cfg)
	if err != nil {
		return nil, err
	}
	return allocatableOf(capacity), nil
}

func allocatableOf(capacity corev1.ResourceList) corev1.ResourceList {
	alloc := capacity.DeepCopy()
	mem := alloc[corev1.ResourceMemory]
	mem.Sub(memoryReserved)
	alloc[corev1.ResourceMemory] = mem
	return alloc
}

// memTotal reads MemTotal from /proc/meminfo, in bytes.
func memTotal() (int64, error) {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, fmt.Errorf("kubelet: read memory size: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("kubelet: parse MemTotal %q: %w", rest, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("kubelet: no MemTotal in /proc/meminfo")
}

// osImage is PRETTY_NAME of /etc/os-release, as the kubelet reports it.
func osImage() string {
	data, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return "Unknown"
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return "Unknown"
}

func kernelVersion() string {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return ""
	}
	var b strings.Builder
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		b.WriteByte(byte(c))
	}
	return b.String()
}

// nodeLabels are the well-known labels of the node plus the configured ones.
func (k *Kubelet) nodeLabels() map[string]string {
	labels := map[string]string{
		corev1.LabelHostname:       k.cfg.Hostname,
		corev1.LabelOSStable:       runtime.GOOS,
		corev1.LabelArchStable:     runtime.GOARCH,
		"beta.kubernetes.io/os":    runtime.GOOS,
		"beta.kubernetes.io/arch":  runtime.GOARCH,
		"node.kubernetes.io/agent": "tug",
	}
	maps.Copy(labels, k.cfg.Labels)
	return labels
}

// initNode reads the machine and registers the Node, or adopts the
// existing one (a restarted agent keeps its node and its pods).
func (k *Kubelet) initNode(ctx context.Context) error {
	capacity, err := machineCapacity(k.cfg)
	if err != nil {
		return err
	}
	k.node.mu.Lock()
	k.node.capacity = capacity
	k.node.allocatable = allocatableOf(capacity)
	k.node.mu.Unlock()
	nodes := k.client.CoreV1().Nodes()
	for {
		node, err := nodes.Get(ctx, k.cfg.NodeName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			node = &corev1.Node{
				ObjectMeta: metav1.ObjectMeta{Name: k.cfg.NodeName, Labels: k.nodeLabels()},
				Spec:       corev1.NodeSpec{Taints: k.cfg.Taints},
			}
			node, err = nodes.Create(ctx, node, metav1.CreateOptions{})
			if err == nil {
				klog.FromContext(ctx).Info("Registered node")
			}
		}
		if err == nil {
			k.node.mu.Lock()
			k.node.uid = node.UID
			k.node.mu.Unlock()
			if err := k.reconcileLabels(ctx, node); err != nil {
				return err
			}
			return k.postStatus(ctx, node)
		}
		if !apierrors.IsAlreadyExists(err) && !apierrors.IsConflict(err) {
			klog.FromContext(ctx).Error(err, "Registering node failed; retrying")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-k.clock.After(time.Second):
		}
	}
}

// reconcileLabels adds the labels the node lacks (users may add others).
func (k *Kubelet) reconcileLabels(ctx context.Context, node *corev1.Node) error {
	want := k.nodeLabels()
	missing := map[string]string{}
	for key, v := range want {
		if node.Labels[key] != v {
			missing[key] = v
		}
	}
	if len(missing) == 0 {
		return nil
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"labels": missing}})
	if err != nil {
		return err
	}
	_, err = k.client.CoreV1().Nodes().Patch(ctx, node.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	if err != nil {
		return fmt.Errorf("kubelet: label node: %w", err)
	}
	return nil
}

// runNodeStatus posts the node's status when it changes, and at least
// every statusReportInterval; it also hands new pod CIDRs to OnPodCIDR.
func (k *Kubelet) runNodeStatus(ctx context.Context) {
	ticker := k.clock.NewTicker(statusCheckInterval)
	defer ticker.Stop()
	fast := k.clock.NewTicker(time.Second)
	defer fast.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C():
		case <-fast.C():
			// Until the node has its pod CIDR and is ready, look every second.
			k.node.mu.Lock()
			ready := k.node.status != nil && nodeReady(k.node.status)
			k.node.mu.Unlock()
			if ready {
				continue
			}
		}
		node, err := k.client.CoreV1().Nodes().Get(ctx, k.cfg.NodeName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			// Deleted by someone: register again, as the kubelet does.
			err = k.initNode(ctx)
		} else if err == nil {
			err = k.postStatus(ctx, node)
		}
		if err != nil && ctx.Err() == nil {
			klog.FromContext(ctx).Error(err, "Updating node status failed")
		}
	}
}

func nodeReady(s *corev1.NodeStatus) bool {
	for _, c := range s.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// postStatus writes node's status if it changed or the last post is older
// than statusReportInterval.
func (k *Kubelet) postStatus(ctx context.Context, node *corev1.Node) error {
	cidrs := node.Spec.PodCIDRs
	if len(cidrs) == 0 && node.Spec.PodCIDR != "" {
		cidrs = []string{node.Spec.PodCIDR}
	}
	k.node.mu.Lock()
	cidrChanged := !slices.Equal(cidrs, k.node.podCIDRs)
	k.node.mu.Unlock()
	if cidrChanged && len(cidrs) > 0 && k.cfg.OnPodCIDR != nil {
		if err := k.cfg.OnPodCIDR(ctx, cidrs); err != nil {
			return fmt.Errorf("kubelet: configure pod network %v: %w", cidrs, err)
		}
		klog.FromContext(ctx).Info("Pod network configured", "podCIDRs", cidrs)
	}
	k.node.mu.Lock()
	k.node.podCIDRs = cidrs
	k.node.mu.Unlock()

	now := metav1.NewTime(k.clock.Now())
	status := k.nodeStatus(ctx, node, now)
	k.node.mu.Lock()
	unchanged := k.node.status != nil && apiequality.Semantic.DeepEqual(withoutHeartbeats(status), k.node.status)
	due := k.clock.Since(k.node.heartbeat) >= statusReportInterval
	k.node.mu.Unlock()
	if unchanged && !due {
		return nil
	}
	patch, err := json.Marshal(map[string]any{"status": status})
	if err != nil {
		return err
	}
	if _, err := k.client.CoreV1().Nodes().PatchStatus(ctx, k.cfg.NodeName, patch); err != nil {
		return fmt.Errorf("kubelet: post node status: %w", err)
	}
	k.node.mu.Lock()
	k.node.status = withoutHeartbeats(status)
	k.node.heartbeat = now.Time
	k.node.mu.Unlock()
	return nil
}

// withoutHeartbeats is s with the heartbeat times cleared, for comparing.
func withoutHeartbeats(s *corev1.NodeStatus) *corev1.NodeStatus {
	s = s.DeepCopy()
	for i := range s.Conditions {
		s.Conditions[i].LastHeartbeatTime = metav1.Time{}
	}
	return s
}

// nodeStatus is the status to post now: capacity, addresses, conditions
// (Ready follows the runtime's own readiness and its network's), images.
func (k *Kubelet) nodeStatus(ctx context.Context, node *corev1.Node, now metav1.Time) *corev1.NodeStatus {
	k.node.mu.Lock()
	capacity, allocatable := k.node.capacity.DeepCopy(), k.node.allocatable.DeepCopy()
	k.node.mu.Unlock()
	runtimeVersion := "unknown"
	if v, err := k.runtime.Version(ctx, &runtimeapi.VersionRequest{}); err == nil {
		runtimeVersion = v.RuntimeName + "://" + v.RuntimeVersion
	}
	ready, message := k.runtimeReady(ctx)
	readyCond := corev1.NodeCondition{
		Type: corev1.NodeReady, Status: corev1.ConditionTrue,
		Reason: "KubeletReady", Message: "kubelet is posting ready status",
	}
	if !ready {
		readyCond.Status, readyCond.Reason, readyCond.Message = corev1.ConditionFalse, "KubeletNotReady", message
	}
	conditions := []corev1.NodeCondition{
		{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientMemory", Message: "kubelet has sufficient memory available"},
		{Type: corev1.NodeDiskPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasNoDiskPressure", Message: "kubelet has no disk pressure"},
		{Type: corev1.NodePIDPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientPID", Message: "kubelet has sufficient PID available"},
		readyCond,
	}
	for i := range conditions {
		c := &conditions[i]
		c.LastHeartbeatTime = now
		c.LastTransitionTime = now
		for _, old := range node.Status.Conditions {
			if old.Type == c.Type && old.Status == c.Status {
				c.LastTransitionTime = old.LastTransitionTime
			}
		}
	}
	addresses := make([]corev1.NodeAddress, 0, len(k.cfg.NodeIPs)+1)
	for _, ip := range k.cfg.NodeIPs {
		addresses = append(addresses, corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: ip.String()})
	}
	addresses = append(addresses, corev1.NodeAddress{Type: corev1.NodeHostName, Address: k.cfg.Hostname})
	return &corev1.NodeStatus{
		Capacity:        capacity,
		Allocatable:     allocatable,
		Conditions:      conditions,
		Addresses:       addresses,
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: k.cfg.KubeletPort}},
		NodeInfo: corev1.NodeSystemInfo{
			MachineID:               machineID(),
			BootID:                  bootID(),
			KernelVersion:           kernelVersion(),
			OSImage:                 osImage(),
			ContainerRuntimeVersion: runtimeVersion,
			KubeletVersion:          version.Get().KubernetesVersion,
			OperatingSystem:         runtime.GOOS,
			Architecture:            runtime.GOARCH,
		},
		Images: k.nodeImages(ctx),
	}
}

// runtimeReady asks the runtime whether it and its network are ready.
func (k *Kubelet) runtimeReady(ctx context.Context) (bool, string) {
	st, err := k.runtime.Status(ctx, &runtimeapi.StatusRequest{})
	if err != nil {
		return false, "container runtime is down: " + err.Error()
	}
	var problems []string
	for _, c := range st.GetStatus().GetConditions() {
		if !c.Status {
			problems = append(problems, fmt.Sprintf("%s=false reason:%s message:%s", c.Type, c.Reason, c.Message))
		}
	}
	if len(problems) > 0 {
		return false, "container runtime not ready: " + strings.Join(problems, "; ")
	}
	return true, ""
}

// maxNodeImages bounds status.images, as the kubelet's default does.
const maxNodeImages = 50

// nodeImages lists the runtime's images, largest first.
func (k *Kubelet) nodeImages(ctx context.Context) []corev1.ContainerImage {
	resp, err := k.images.ListImages(ctx, &runtimeapi.ListImagesRequest{})
	if err != nil {
		return nil
	}
	var out []corev1.ContainerImage
	for _, img := range resp.Images {
		names := append(slices.Clone(img.RepoTags), img.RepoDigests...)
		if len(names) == 0 {
			continue
		}
		out = append(out, corev1.ContainerImage{Names: names, SizeBytes: int64(img.Size)})
	}
	slices.SortFunc(out, func(a, b corev1.ContainerImage) int {
		if a.SizeBytes != b.SizeBytes {
			return int(b.SizeBytes - a.SizeBytes)
		}
		return strings.Compare(a.Names[0], b.Names[0])
	})
	if len(out) > maxNodeImages {
		out = out[:maxNodeImages]
	}
	return out
}

func machineID() string {
	data, _ := os.ReadFile("/etc/machine-id")
	return strings.TrimSpace(string(data))
}

func bootID() string {
	data, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	return strings.TrimSpace(string(data))
}

// runLease renews the node's Lease every leaseRenewInterval.
func (k *Kubelet) runLease(ctx context.Context) {
	for {
		if err := k.renewLease(ctx); err != nil && ctx.Err() == nil {
			klog.FromContext(ctx).Error(err, "Renewing node lease failed")
		}
		select {
		case <-ctx.Done():
			return
		case <-k.clock.After(leaseRenewInterval):
		}
	}
}

func (k *Kubelet) renewLease(ctx context.Context) error {
	leases := k.client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	now := metav1.NewMicroTime(k.clock.Now())
	lease, err := leases.Get(ctx, k.cfg.NodeName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		lease = &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: k.cfg.NodeName, Namespace: corev1.NamespaceNodeLease}}
		k.fillLease(lease, now)
		_, err = leases.Create(ctx, lease, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	k.fillLease(lease, now)
	_, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
	return err
}

func (k *Kubelet) fillLease(lease *coordinationv1.Lease, now metav1.MicroTime) {
	lease.Spec.HolderIdentity = ptr.To(k.cfg.NodeName)
	lease.Spec.LeaseDurationSeconds = ptr.To[int32](leaseDurationSeconds)
	lease.Spec.RenewTime = &now
	k.node.mu.Lock()
	uid := k.node.uid
	k.node.mu.Unlock()
	if uid != "" {
		lease.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: k.cfg.NodeName, UID: uid}}
	}
}
