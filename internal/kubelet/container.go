package kubelet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
)

// Waiting reasons the kubelet reports for containers it could not start.
const (
	reasonContainerCreating      = "ContainerCreating"
	reasonPodInitializing        = "PodInitializing"
	reasonCreateConfigError      = "CreateContainerConfigError"
	reasonCreateContainerError   = "CreateContainerError"
	reasonRunContainerError      = "RunContainerError"
	reasonPostStartHookError     = "PostStartHookError"
	defaultTerminationMessageDir = "/dev/termination-log"
)

// configError marks a failure of the pod's spec or its references (a
// missing ConfigMap key): the container waits with
// CreateContainerConfigError until the reference resolves.
type configError struct{ err error }

func (e configError) Error() string { return e.err.Error() }
func (e configError) Unwrap() error { return e.err }

// start creates and starts instance attempt of container c.
func (r *podRun) start(ctx context.Context, c *corev1.Container, attempt uint32, init bool) error {
	k := r.k
	c = k.withAllocatedResources(r.pod, c) // a resize not admitted yet waits
	if err := k.ensureImage(ctx, r.pod, c); err != nil {
		return err
	}
	cfg, err := r.containerConfig(ctx, c, attempt, init)
	if err == nil {
		err = k.verifyNonRoot(ctx, r.pod, c)
	}
	if err != nil {
		var ce configError
		if errors.As(err, &ce) {
			k.setStartError(r.pod.UID, c.Name, reasonCreateConfigError, err.Error())
			k.recorder.Eventf(r.pod, corev1.EventTypeWarning, "Failed", "Error: %v", err)
		}
		return err
	}
	resp, err := k.runtime.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{
		PodSandboxId: r.sandboxID, Config: cfg, SandboxConfig: r.sandboxConfig,
	})
	if err != nil {
		k.setStartError(r.pod.UID, c.Name, reasonCreateContainerError, err.Error())
		k.recorder.Eventf(r.pod, corev1.EventTypeWarning, "Failed", "Error: %v", err)
		return fmt.Errorf("create container %s: %w", c.Name, err)
	}
	k.resize.noteApplied(r.pod.UID, resp.ContainerId, c.Resources)
	k.recorder.Eventf(r.pod, corev1.EventTypeNormal, "Created", "Created container: %s", c.Name)
	return r.startCreated(ctx, c, &containerState{id: resp.ContainerId, name: c.Name, attempt: attempt})
}

// startCreated starts a created container and runs its postStart hook.
func (r *podRun) startCreated(ctx context.Context, c *corev1.Container, cs *containerState) error {
	k := r.k
	if _, err := k.runtime.StartContainer(ctx, &runtimeapi.StartContainerRequest{ContainerId: cs.id}); err != nil {
		k.setStartError(r.pod.UID, c.Name, reasonRunContainerError, err.Error())
		k.recorder.Eventf(r.pod, corev1.EventTypeWarning, "Failed", "Error: %v", err)
		return fmt.Errorf("start container %s: %w", c.Name, err)
	}
	k.clearStartError(r.pod.UID, c.Name)
	k.recorder.Eventf(r.pod, corev1.EventTypeNormal, "Started", "Started container %s", c.Name)
	klog.FromContext(ctx).V(2).Info("Container started", "container", c.Name, "id", cs.id)
	if c.Lifecycle != nil && c.Lifecycle.PostStart != nil {
		if msg, err := k.runHook(ctx, r.pod, c, cs.id, c.Lifecycle.PostStart, r.podIPs); err != nil {
			k.recorder.Eventf(r.pod, corev1.EventTypeWarning, "FailedPostStartHook", "PostStartHook failed: %s", msg)
			k.setStartError(r.pod.UID, c.Name, reasonPostStartHookError, msg)
			_ = k.stopContainer(ctx, r.pod, c, cs, 0)
			return fmt.Errorf("postStart hook of %s: %w", c.Name, err)
		}
	}
	return nil
}

// verifyNonRoot refuses to start a container whose security context asks
// for runAsNonRoot when it would run as root: its runAsUser is 0, or it
// has none and the image's user is root (or not a number, which cannot be
// checked).
func (k *Kubelet) verifyNonRoot(ctx context.Context, pod *corev1.Pod, c *corev1.Container) error {
	nonRoot, user := false, (*int64)(nil)
	if psc := pod.Spec.SecurityContext; psc != nil {
		nonRoot, user = ptr.Deref(psc.RunAsNonRoot, false), psc.RunAsUser
	}
	if csc := c.SecurityContext; csc != nil {
		if csc.RunAsNonRoot != nil {
			nonRoot = *csc.RunAsNonRoot
		}
		if csc.RunAsUser != nil {
			user = csc.RunAsUser
		}
	}
	if !nonRoot {
		return nil
	}
	who := fmt.Sprintf("(pod: %q, container: %s)", fmt.Sprintf("%s_%s(%s)", pod.Name, pod.Namespace, pod.UID), c.Name)
	if user != nil {
		if *user == 0 {
			return configError{fmt.Errorf("container's runAsUser breaks non-root policy %s", who)}
		}
		return nil
	}
	st, err := k.images.ImageStatus(ctx, &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: c.Image}})
	if err != nil || st.Image == nil {
		return fmt.Errorf("image status %s: %w", c.Image, err)
	}
	switch {
	case st.Image.Uid != nil && st.Image.Uid.Value != 0:
		return nil
	case st.Image.Uid == nil && st.Image.Username != "":
		return configError{fmt.Errorf("container has runAsNonRoot and image has non-numeric user (%s), cannot verify user is non-root %s", st.Image.Username, who)}
	}
	return configError{fmt.Errorf("container has runAsNonRoot and image will run as root %s", who)}
}

// containerConfig is the CRI config of instance attempt of c.
func (r *podRun) containerConfig(ctx context.Context, c *corev1.Container, attempt uint32, init bool) (*runtimeapi.ContainerConfig, error) {
	k := r.k
	env, err := k.containerEnv(ctx, r.pod, c, r.podIPs)
	if err != nil {
		return nil, configError{err}
	}
	envMap := make(map[string]string, len(env))
	for _, e := range env {
		envMap[e.Key] = string(e.Value)
	}
	mounts, err := k.volumes.Mounts(r.pod, c, r.paths, envMap)
	if err != nil {
		return nil, configError{err}
	}
	msgMount, err := k.terminationMessageMount(r.pod, c, attempt)
	if err != nil {
		return nil, err
	}
	if msgMount != nil {
		mounts = append(mounts, msgMount)
	}
	if hostsMount := k.etcHostsMount(r.pod, r.podIPs); hostsMount != nil && !mountsPath(mounts, "/etc/hosts") {
		mounts = append(mounts, hostsMount)
	}
	labels := podLabels(r.pod)
	labels[LabelContainerName] = c.Name
	annotations := map[string]string{
		annotationTerminationGrace: strconv.FormatInt(podGrace(r.pod), 10),
		annotationInit:             strconv.FormatBool(init),
		annotationResources:        resourcesAnnotation(c.Resources),
	}
	if msgMount != nil {
		annotations[annotationMessagePath] = msgMount.HostPath
	}
	if c.TerminationMessagePolicy != "" {
		annotations[annotationMessagePolicy] = string(c.TerminationMessagePolicy)
	}
	cfg := &runtimeapi.ContainerConfig{
		Metadata:    &runtimeapi.ContainerMetadata{Name: c.Name, Attempt: attempt},
		Image:       &runtimeapi.ImageSpec{Image: c.Image, UserSpecifiedImage: c.Image},
		Command:     expandAll(c.Command, envMap),
		Args:        expandAll(c.Args, envMap),
		WorkingDir:  c.WorkingDir,
		Envs:        env,
		Mounts:      mounts,
		Labels:      labels,
		Annotations: annotations,
		LogPath:     filepath.Join(c.Name, strconv.FormatUint(uint64(attempt), 10)+".log"),
		Stdin:       c.Stdin,
		StdinOnce:   c.StdinOnce,
		Tty:         c.TTY,
		Linux:       linuxContainerConfig(r.pod, c),
	}
	if err := os.MkdirAll(filepath.Join(k.podLogDir(r.pod), c.Name), 0o755); err != nil {
		return nil, fmt.Errorf("create log directory: %w", err)
	}
	return cfg, nil
}

func mountsPath(mounts []*runtimeapi.Mount, path string) bool {
	for _, m := range mounts {
		if m.ContainerPath == path {
			return true
		}
	}
	return false
}

// terminationMessageMount is a fresh host file mounted at the container's
// terminationMessagePath, read back into its terminated state.
func (k *Kubelet) terminationMessageMount(pod *corev1.Pod, c *corev1.Container, attempt uint32) (*runtimeapi.Mount, error) {
	path := c.TerminationMessagePath
	if path == "" {
		path = defaultTerminationMessageDir
	}
	dir := filepath.Join(podsDir(k.cfg.RootDir), string(pod.UID), "containers", c.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("termination message: %w", err)
	}
	host := filepath.Join(dir, strconv.FormatUint(uint64(attempt), 10))
	if err := os.WriteFile(host, nil, 0o666); err != nil { //nolint:gosec // the container's user, whoever it is, writes its message here
		return nil, fmt.Errorf("termination message: %w", err)
	}
	if err := os.Chmod(host, 0o666); err != nil { //nolint:gosec // as above, past the umask
		return nil, fmt.Errorf("termination message: %w", err)
	}
	return &runtimeapi.Mount{ContainerPath: path, HostPath: host}, nil
}

// linuxContainerConfig sets resources and the security context.
func linuxContainerConfig(pod *corev1.Pod, c *corev1.Container) *runtimeapi.LinuxContainerConfig {
	res := &runtimeapi.LinuxContainerResources{}
	if cpu, ok := c.Resources.Requests[corev1.ResourceCPU]; ok {
		res.CpuShares = milliCPUToShares(cpu.MilliValue())
	} else {
		res.CpuShares = minShares
	}
	if cpu, ok := c.Resources.Limits[corev1.ResourceCPU]; ok && !cpu.IsZero() {
		res.CpuPeriod = cpuPeriod
		res.CpuQuota = cpu.MilliValue() * cpuPeriod / 1000
		if res.CpuQuota < 1000 {
			res.CpuQuota = 1000
		}
	}
	if mem, ok := c.Resources.Limits[corev1.ResourceMemory]; ok {
		res.MemoryLimitInBytes = mem.Value()
	}
	res.OomScoreAdj = oomScoreAdj(pod, c)
	return &runtimeapi.LinuxContainerConfig{Resources: res, SecurityContext: securityContext(pod, c)}
}

// CPU shares and quota, as cgroup v1 counts them.
const (
	minShares     = 2
	maxShares     = 262144
	sharesPerCPU  = 1024
	cpuPeriod     = 100000
	maxOOMAdj     = 1000
	guaranteedAdj = -997
	besteffortAdj = 1000
)

func milliCPUToShares(milli int64) int64 {
	return min(max(milli*sharesPerCPU/1000, minShares), maxShares)
}

// systemNodeCritical is the built-in PriorityClass of pods a node must
// keep above all others.
const systemNodeCritical = "system-node-critical"

// oomScoreAdj follows the kubelet's QoS policy: node-critical and
// guaranteed pods are the last to go, best-effort the first, burstable in
// between by request.
func oomScoreAdj(pod *corev1.Pod, c *corev1.Container) int64 {
	if pod.Spec.PriorityClassName == systemNodeCritical {
		return guaranteedAdj
	}
	switch qosClass(pod) {
	case corev1.PodQOSGuaranteed:
		return guaranteedAdj
	case corev1.PodQOSBestEffort:
		return besteffortAdj
	}
	mem := c.Resources.Requests[corev1.ResourceMemory]
	total, err := memTotal()
	if err != nil || total == 0 {
		return maxOOMAdj - 1
	}
	adj := maxOOMAdj - (maxOOMAdj*mem.Value())/total
	return min(max(adj, maxOOMAdj+guaranteedAdj), maxOOMAdj-1)
}

// securityContext maps the container's (and pod's) security context.
func securityContext(pod *corev1.Pod, c *corev1.Container) *runtimeapi.LinuxContainerSecurityContext {
	user, group, groups := podRunAs(pod)
	sc := &runtimeapi.LinuxContainerSecurityContext{
		NamespaceOptions:   namespaceOptions(pod),
		RunAsUser:          user,
		RunAsGroup:         group,
		SupplementalGroups: groups,
		MaskedPaths:        defaultMaskedPaths,
		ReadonlyPaths:      defaultReadonlyPaths,
	}
	csc := c.SecurityContext
	if csc == nil {
		return sc
	}
	if csc.RunAsUser != nil {
		sc.RunAsUser = &runtimeapi.Int64Value{Value: *csc.RunAsUser}
	}
	if csc.RunAsGroup != nil {
		sc.RunAsGroup = &runtimeapi.Int64Value{Value: *csc.RunAsGroup}
	}
	if csc.ReadOnlyRootFilesystem != nil {
		sc.ReadonlyRootfs = *csc.ReadOnlyRootFilesystem
	}
	if csc.Privileged != nil && *csc.Privileged {
		sc.Privileged = true
		sc.MaskedPaths, sc.ReadonlyPaths = nil, nil
	}
	if csc.AllowPrivilegeEscalation != nil {
		sc.NoNewPrivs = !*csc.AllowPrivilegeEscalation
	}
	if caps := csc.Capabilities; caps != nil {
		sc.Capabilities = &runtimeapi.Capability{}
		for _, c := range caps.Add {
			sc.Capabilities.AddCapabilities = append(sc.Capabilities.AddCapabilities, string(c))
		}
		for _, c := range caps.Drop {
			sc.Capabilities.DropCapabilities = append(sc.Capabilities.DropCapabilities, string(c))
		}
	}
	return sc
}

// The paths the kubelet masks or makes read-only in unprivileged
// containers (the runtime's defaults only apply when these are set).
var (
	defaultMaskedPaths = []string{
		"/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
		"/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
	}
	defaultReadonlyPaths = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
)
