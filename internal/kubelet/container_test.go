package kubelet

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/utils/ptr"
)

// The kubelet's MilliCPUToShares (pkg/kubelet/cm/helpers_linux.go):
// milliCPU*1024/1000, at least 2.
func TestMilliCPUToShares(t *testing.T) {
	tests := []struct{ milli, want int64 }{
		{0, 2}, {1, 2}, {2, 2}, {3, 3}, {10, 10}, {100, 102}, {250, 256}, {1000, 1024}, {1500, 1536}, {64000, 65536},
	}
	for _, tt := range tests {
		if got := milliCPUToShares(tt.milli); got != tt.want {
			t.Errorf("milliCPUToShares(%d) = %d, want %d", tt.milli, got, tt.want)
		}
	}
}

// The kubelet's GetContainerOOMScoreAdjust (pkg/kubelet/qos/policy.go).
func TestOOMScoreAdj(t *testing.T) {
	total, err := memTotal()
	if err != nil {
		t.Skipf("no memory size: %v", err)
	}
	tenth := resource.NewQuantity(total/10, resource.BinarySI).String()
	tests := []struct {
		name string
		r    corev1.ResourceRequirements
		want int64
	}{
		{name: "guaranteed", r: res(rl{"cpu": "1", "memory": "64Mi"}, rl{"cpu": "1", "memory": "64Mi"}), want: -997},
		{name: "best effort", want: 1000},
		{name: "burstable without memory request", r: res(rl{"cpu": "100m"}, nil), want: 999},
		{name: "burstable asking a tenth of memory", r: res(rl{"memory": tenth}, nil), want: 1000 - (1000*(total/10))/total},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := testPod(corev1.RestartPolicyAlways, nil, "a")
			pod.Spec.Containers[0].Resources = tt.r
			if got := oomScoreAdj(pod, &pod.Spec.Containers[0]); got != tt.want {
				t.Errorf("oomScoreAdj = %d, want %d", got, tt.want)
			}
		})
	}
}

// linuxContainerConfig's resources as the kubelet sets them on cgroup v1:
// shares from the CPU request, CFS quota from the CPU limit (at least
// 1 ms per 100 ms period), the memory limit in bytes.
func TestLinuxContainerResources(t *testing.T) {
	tests := []struct {
		name                  string
		r                     corev1.ResourceRequirements
		shares, period, quota int64
		memory                int64
	}{
		{name: "nothing", shares: 2},
		{name: "cpu request", r: res(rl{"cpu": "250m"}, nil), shares: 256},
		{name: "cpu limit", r: res(rl{"cpu": "500m"}, rl{"cpu": "500m"}), shares: 512, period: 100000, quota: 50000},
		{name: "two cpus", r: res(rl{"cpu": "2"}, rl{"cpu": "2"}), shares: 2048, period: 100000, quota: 200000},
		{name: "tiny limit gets the minimum quota", r: res(rl{"cpu": "1m"}, rl{"cpu": "1m"}), shares: 2, period: 100000, quota: 1000},
		{name: "memory limit", r: res(rl{"memory": "128Mi"}, rl{"memory": "128Mi"}), shares: 2, memory: 128 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := testPod(corev1.RestartPolicyAlways, nil, "a")
			pod.Spec.Containers[0].Resources = tt.r
			got := linuxContainerConfig(pod, &pod.Spec.Containers[0]).Resources
			if got.CpuShares != tt.shares || got.CpuPeriod != tt.period || got.CpuQuota != tt.quota || got.MemoryLimitInBytes != tt.memory {
				t.Errorf("shares, period, quota, memory = %d, %d, %d, %d; want %d, %d, %d, %d",
					got.CpuShares, got.CpuPeriod, got.CpuQuota, got.MemoryLimitInBytes, tt.shares, tt.period, tt.quota, tt.memory)
			}
			if got.OomScoreAdj != oomScoreAdj(pod, &pod.Spec.Containers[0]) {
				t.Errorf("oom_score_adj = %d, want the QoS policy's", got.OomScoreAdj)
			}
		})
	}
}

// The kubelet's determineEffectiveSecurityContext: the container's
// settings over the pod's, namespaces as the sandbox's, default masked and
// read-only /proc paths unless privileged.
func TestSecurityContext(t *testing.T) {
	nsPod := &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_POD, Pid: runtimeapi.NamespaceMode_CONTAINER, Ipc: runtimeapi.NamespaceMode_POD}
	base := func(mod func(*runtimeapi.LinuxContainerSecurityContext)) *runtimeapi.LinuxContainerSecurityContext {
		sc := &runtimeapi.LinuxContainerSecurityContext{
			NamespaceOptions: &runtimeapi.NamespaceOption{Network: nsPod.Network, Pid: nsPod.Pid, Ipc: nsPod.Ipc},
			MaskedPaths: []string{
				"/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
				"/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
			},
			ReadonlyPaths: []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"},
		}
		if mod != nil {
			mod(sc)
		}
		return sc
	}
	tests := []struct {
		name string
		pod  func(*corev1.Pod)
		ctr  *corev1.SecurityContext
		want *runtimeapi.LinuxContainerSecurityContext
	}{
		{name: "nothing set", want: base(nil)},
		{
			name: "host namespaces",
			pod:  func(p *corev1.Pod) { p.Spec.HostNetwork, p.Spec.HostPID, p.Spec.HostIPC = true, true, true },
			want: base(func(sc *runtimeapi.LinuxContainerSecurityContext) {
				sc.NamespaceOptions = &runtimeapi.NamespaceOption{
					Network: runtimeapi.NamespaceMode_NODE, Pid: runtimeapi.NamespaceMode_NODE, Ipc: runtimeapi.NamespaceMode_NODE,
				}
			}),
		},
		{
			name: "shared process namespace",
			pod:  func(p *corev1.Pod) { p.Spec.ShareProcessNamespace = ptr.To(true) },
			want: base(func(sc *runtimeapi.LinuxContainerSecurityContext) {
				sc.NamespaceOptions.Pid = runtimeapi.NamespaceMode_POD
			}),
		},
		{
			name: "pod user and groups",
			pod: func(p *corev1.Pod) {
				p.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsUser: ptr.To[int64](1000), RunAsGroup: ptr.To[int64](3000),
					SupplementalGroups: []int64{4000, 5000}, FSGroup: ptr.To[int64](2000)}
			},
			want: base(func(sc *runtimeapi.LinuxContainerSecurityContext) {
				sc.RunAsUser, sc.RunAsGroup = &runtimeapi.Int64Value{Value: 1000}, &runtimeapi.Int64Value{Value: 3000}
				sc.SupplementalGroups = []int64{2000, 4000, 5000}
			}),
		},
		{
			name: "container user over the pod's",
			pod: func(p *corev1.Pod) {
				p.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsUser: ptr.To[int64](1000), RunAsGroup: ptr.To[int64](3000)}
			},
			ctr: &corev1.SecurityContext{RunAsUser: ptr.To[int64](0), RunAsGroup: ptr.To[int64](0)},
			want: base(func(sc *runtimeapi.LinuxContainerSecurityContext) {
				sc.RunAsUser, sc.RunAsGroup = &runtimeapi.Int64Value{Value: 0}, &runtimeapi.Int64Value{Value: 0}
			}),
		},
		{
			name: "privileged: no masked paths",
			ctr:  &corev1.SecurityContext{Privileged: ptr.To(true)},
			want: base(func(sc *runtimeapi.LinuxContainerSecurityContext) {
				sc.Privileged, sc.MaskedPaths, sc.ReadonlyPaths = true, nil, nil
			}),
		},
		{
			name: "explicitly unprivileged",
			ctr:  &corev1.SecurityContext{Privileged: ptr.To(false)},
			want: base(nil),
		},
		{
			name: "read-only root and no privilege escalation",
			ctr:  &corev1.SecurityContext{ReadOnlyRootFilesystem: ptr.To(true), AllowPrivilegeEscalation: ptr.To(false)},
			want: base(func(sc *runtimeapi.LinuxContainerSecurityContext) { sc.ReadonlyRootfs, sc.NoNewPrivs = true, true }),
		},
		{
			name: "privilege escalation allowed",
			ctr:  &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(true)},
			want: base(nil),
		},
		{
			name: "capabilities",
			ctr: &corev1.SecurityContext{Capabilities: &corev1.Capabilities{
				Add: []corev1.Capability{"NET_ADMIN", "SYS_TIME"}, Drop: []corev1.Capability{"ALL"}}},
			want: base(func(sc *runtimeapi.LinuxContainerSecurityContext) {
				sc.Capabilities = &runtimeapi.Capability{AddCapabilities: []string{"NET_ADMIN", "SYS_TIME"}, DropCapabilities: []string{"ALL"}}
			}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := testPod(corev1.RestartPolicyAlways, nil, "a")
			if tt.pod != nil {
				tt.pod(pod)
			}
			pod.Spec.Containers[0].SecurityContext = tt.ctr
			got := securityContext(pod, &pod.Spec.Containers[0])
			slices.Sort(got.SupplementalGroups) // a set: the kubelet puts fsGroup first
			if diff := cmp.Diff(tt.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("securityContext (-want +got):\n%s", diff)
			}
		})
	}
}

// imageTag decides the default pull policy as the API server's defaulting
// does: Always for :latest or no tag, IfNotPresent for any other tag or a
// digest.
func TestImageTag(t *testing.T) {
	tests := []struct{ ref, want string }{
		{"busybox", ""},
		{"busybox:1.36", "1.36"},
		{"busybox:latest", "latest"},
		{"docker.io/library/busybox", ""},
		{"localhost:5000/busybox", ""},
		{"localhost:5000/team/busybox:v1", "v1"},
		{"tug.local/pause:1", "1"},
		{"busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "digest"},
		{"busybox:1.36@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "digest"},
	}
	for _, tt := range tests {
		if got := imageTag(tt.ref); got != tt.want {
			t.Errorf("imageTag(%q) = %q, want %q", tt.ref, got, tt.want)
		}
	}
}

// The kubelet's lifecycle resolvePort: a number, or a container port's
// name, or a number written as a string.
func TestResolvePort(t *testing.T) {
	c := &corev1.Container{Name: "web", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}, {Name: "metrics", ContainerPort: 9090}}}
	tests := []struct {
		port    intstr.IntOrString
		want    int
		wantErr bool
	}{
		{port: intstr.FromInt32(80), want: 80},
		{port: intstr.FromString("http"), want: 8080},
		{port: intstr.FromString("metrics"), want: 9090},
		{port: intstr.FromString("7000"), want: 7000},
		{port: intstr.FromString("nope"), wantErr: true},
	}
	for _, tt := range tests {
		got, err := resolvePort(tt.port, c)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("resolvePort(%s) = %d, %v; want %d, error %v", tt.port.String(), got, err, tt.want, tt.wantErr)
		}
	}
}
