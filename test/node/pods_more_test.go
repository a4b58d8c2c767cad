package node

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugcluster/tug/internal/testutil"
	"github.com/tugcluster/tug/internal/testutil/nodetest"
)

// TestPodSpecs checks more of the pod spec on one real node: security
// contexts, the host network, volumes, resources, log options and the
// grace period.
func TestPodSpecs(t *testing.T) {
	c := nodetest.StartCluster(t, 1)
	t.Run("SecurityContext", func(t *testing.T) { t.Parallel(); testSecurityContext(t, c) })
	t.Run("HostNetwork", func(t *testing.T) { t.Parallel(); testHostNetwork(t, c) })
	t.Run("Volumes", func(t *testing.T) { t.Parallel(); testVolumes(t, c) })
	t.Run("LogOptions", func(t *testing.T) { t.Parallel(); testLogOptions(t, c) })
	t.Run("GracePeriodThenKill", func(t *testing.T) { t.Parallel(); testGraceThenKill(t, c) })
	t.Run("RunAsNonRoot", func(t *testing.T) { t.Parallel(); testRunAsNonRoot(t, c) })
	t.Run("SidecarStopsWhenMainFinishes", func(t *testing.T) { t.Parallel(); testSidecarJob(t, c) })
	t.Run("TerminationMessageFromLogs", func(t *testing.T) { t.Parallel(); testMessageFromLogs(t, c) })
	t.Run("ActiveDeadline", func(t *testing.T) { t.Parallel(); testActiveDeadline(t, c) })
	t.Run("RelaxedEnvNames", func(t *testing.T) { t.Parallel(); testRelaxedEnvNames(t, c) })
	t.Run("EphemeralContainer", func(t *testing.T) { t.Parallel(); testEphemeral(t, c) })
}

func testEphemeral(t *testing.T, c *nodetest.Cluster) {
	pod := create(t, c.Client, busybox("debug-me", "sleep 3600"))
	waitPod(t, c.Client, pod.Namespace, pod.Name, 60*time.Second, "running", running)
	out, err := c.RunKubectl(t, testutil.Kubectl(t, "1.33"), "", "debug", pod.Name, "--image="+nodetest.BusyboxImage,
		"--image-pull-policy=Never", "-c", "debugger", "--", "sh", "-c", "echo debugging $(hostname)")
	if err != nil {
		t.Fatalf("kubectl debug: %v\n%s", err, out)
	}
	got := waitPod(t, c.Client, pod.Namespace, pod.Name, 60*time.Second, "with its ephemeral container run", func(p *corev1.Pod) bool {
		return len(p.Status.EphemeralContainerStatuses) == 1 && p.Status.EphemeralContainerStatuses[0].State.Terminated != nil
	})
	if term := got.Status.EphemeralContainerStatuses[0].State.Terminated; term.ExitCode != 0 || got.Generation != 2 {
		t.Errorf("ephemeral container %+v, pod generation %d; want exit 0 and generation 2", term, got.Generation)
	}
	if out, err := c.RunKubectl(t, testutil.Kubectl(t, "1.33"), "", "logs", pod.Name, "-c", "debugger"); err != nil || out != "debugging debug-me\n" {
		t.Errorf("kubectl logs -c debugger = %q, %v", out, err)
	}
}

func testActiveDeadline(t *testing.T, c *nodetest.Cluster) {
	pod := busybox("deadline", "sleep 3600")
	pod.Spec.ActiveDeadlineSeconds = new(int64(3))
	create(t, c.Client, pod)
	got := waitPod(t, c.Client, pod.Namespace, pod.Name, 60*time.Second, "Failed", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodFailed })
	if got.Status.Reason != "DeadlineExceeded" || got.Status.Message != "Pod was active on the node longer than the specified deadline" {
		t.Errorf("reason %q message %q, want DeadlineExceeded", got.Status.Reason, got.Status.Message)
	}
}

func testRelaxedEnvNames(t *testing.T, c *nodetest.Cluster) {
	if _, err := c.Client.CoreV1().ConfigMaps(metav1.NamespaceDefault).Create(context.Background(), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "odd-names"}, Data: map[string]string{"data-1": "value-1"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// env runs directly: busybox's sh would drop names it cannot hold.
	pod := busybox("odd-env", "")
	pod.Spec.Containers[0].Command = []string{"env"}
	pod.Spec.RestartPolicy = corev1.RestartPolicyNever
	pod.Spec.Containers[0].EnvFrom = []corev1.EnvFromSource{{Prefix: "1-", ConfigMapRef: &corev1.ConfigMapEnvSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: "odd-names"}}}}
	pod.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "GEN", Value: "x"}}
	create(t, c.Client, pod)
	got := waitPod(t, c.Client, pod.Namespace, pod.Name, 60*time.Second, "Succeeded", succeeded)
	if got.Status.ObservedGeneration != got.Generation || got.Generation == 0 {
		t.Errorf("status.observedGeneration %d, generation %d", got.Status.ObservedGeneration, got.Generation)
	}
	out := waitLogs(t, c, pod.Name, "GEN=")
	if !strings.Contains(out, "\n1-data-1=value-1\n") || !strings.Contains(out, "\nGEN=x\n") {
		t.Errorf("environment %q, want the prefixed key with its dash", out)
	}
}

func testRunAsNonRoot(t *testing.T, c *nodetest.Cluster) {
	pod := busybox("nonroot", "sleep 3600")
	pod.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsNonRoot: new(true)}
	create(t, c.Client, pod)
	got := waitPod(t, c.Client, pod.Namespace, pod.Name, 60*time.Second, "refused", func(p *corev1.Pod) bool {
		return len(p.Status.ContainerStatuses) > 0 && p.Status.ContainerStatuses[0].State.Waiting != nil &&
			p.Status.ContainerStatuses[0].State.Waiting.Reason == "CreateContainerConfigError"
	})
	if msg := got.Status.ContainerStatuses[0].State.Waiting.Message; !strings.Contains(msg, "container has runAsNonRoot and image will run as root") {
		t.Errorf("waiting message %q", msg)
	}
}

func testSidecarJob(t *testing.T, c *nodetest.Cluster) {
	pod := busybox("with-sidecar", "echo main done")
	pod.Spec.RestartPolicy = corev1.RestartPolicyNever
	always := corev1.ContainerRestartPolicyAlways
	pod.Spec.InitContainers = []corev1.Container{{
		Name: "sidecar", Image: nodetest.BusyboxImage, ImagePullPolicy: corev1.PullNever, RestartPolicy: &always,
		Command: []string{"sh", "-c", "while true; do sleep 1; done"},
	}}
	create(t, c.Client, pod)
	got := waitPod(t, c.Client, pod.Namespace, pod.Name, 60*time.Second, "Succeeded", succeeded)
	if st := got.Status.InitContainerStatuses[0].State; st.Terminated == nil {
		t.Errorf("sidecar state %+v after the pod succeeded, want terminated", st)
	}
}

func testMessageFromLogs(t *testing.T, c *nodetest.Cluster) {
	pod := busybox("msg-from-logs", "echo first; echo the reason it failed; exit 4")
	pod.Spec.RestartPolicy = corev1.RestartPolicyNever
	pod.Spec.Containers[0].TerminationMessagePolicy = corev1.TerminationMessageFallbackToLogsOnError
	create(t, c.Client, pod)
	got := waitPod(t, c.Client, pod.Namespace, pod.Name, 60*time.Second, "Failed", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodFailed })
	if term := got.Status.ContainerStatuses[0].State.Terminated; term == nil || term.Message != "first\nthe reason it failed\n" {
		t.Errorf("terminated state %+v, want the log as its message", got.Status.ContainerStatuses[0].State)
	}
}

func testSecurityContext(t *testing.T, c *nodetest.Cluster) {
	pod := busybox("secctx", "echo uid=$(id -u) gid=$(id -g); touch /rootfs-write 2>/dev/null && echo rw || echo ro; sleep 3600")
	pod.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsUser: new(int64(1000)), RunAsGroup: new(int64(2000))}
	pod.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{ReadOnlyRootFilesystem: new(true)}
	create(t, c.Client, pod)
	waitPod(t, c.Client, pod.Namespace, pod.Name, 60*time.Second, "running", running)
	out := waitLogs(t, c, pod.Name, "uid=")
	if strings.TrimSpace(out) != "uid=1000 gid=2000\nro" {
		t.Errorf("security context output %q, want uid 1000, gid 2000 and a read-only root", out)
	}
}

func testHostNetwork(t *testing.T, c *nodetest.Cluster) {
	pod := busybox("hostnet", "ip -4 addr show eth0 | grep -o 'inet [0-9.]*'; sleep 3600")
	pod.Spec.HostNetwork = true
	create(t, c.Client, pod)
	got := waitPod(t, c.Client, pod.Namespace, pod.Name, 60*time.Second, "running", running)
	if got.Status.PodIP != c.Nodes[0].IP {
		t.Errorf("hostNetwork pod IP = %s, want the node's %s", got.Status.PodIP, c.Nodes[0].IP)
	}
	if out := waitLogs(t, c, pod.Name, "inet"); !strings.Contains(out, "inet "+c.Nodes[0].IP) {
		t.Errorf("hostNetwork pod sees %q, want the node's eth0 %s", out, c.Nodes[0].IP)
	}
}

func testVolumes(t *testing.T, c *nodetest.Cluster) {
	ctx := context.Background()
	if _, err := c.Client.CoreV1().Secrets(metav1.NamespaceDefault).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "vol-secret"}, Data: map[string][]byte{"token": []byte("t0ken")},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := busybox("volumes", `cat /secret/token; echo; cat /info/name; echo; cat /info/cpu; echo
grep ' /scratch ' /proc/mounts | cut -d' ' -f3
test -s /var/run/secrets/kubernetes.io/serviceaccount/token && echo token-present
cat /var/run/secrets/kubernetes.io/serviceaccount/namespace; echo
sleep 3600`)
	pod.Labels = map[string]string{"app": "volumes"}
	pod.Spec.Containers[0].Resources = corev1.ResourceRequirements{
		Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
	}
	pod.Spec.Volumes = []corev1.Volume{
		{Name: "secret", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "vol-secret"}}},
		{Name: "info", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{
			{Path: "name", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}},
			{Path: "cpu", ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "main", Resource: "limits.cpu", Divisor: resource.MustParse("1m")}},
		}}}},
		{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}}},
	}
	pod.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{
		{Name: "secret", MountPath: "/secret"}, {Name: "info", MountPath: "/info"}, {Name: "scratch", MountPath: "/scratch"},
	}
	created := create(t, c.Client, pod)
	got := waitPod(t, c.Client, pod.Namespace, pod.Name, 60*time.Second, "running", running)
	if got.Status.QOSClass != corev1.PodQOSGuaranteed {
		t.Errorf("qosClass = %s, want Guaranteed (limits only default the requests)", got.Status.QOSClass)
	}
	out := waitLogs(t, c, pod.Name, "default")
	want := "t0ken\nvolumes\n500\ntmpfs\ntoken-present\ndefault"
	if strings.TrimSpace(out) != want {
		t.Errorf("volume contents %q, want %q (service-account volume injected: %v)", out, want, hasVolume(created, "kube-api-access-"))
	}
}

func hasVolume(pod *corev1.Pod, prefix string) bool {
	for _, v := range pod.Spec.Volumes {
		if strings.HasPrefix(v.Name, prefix) {
			return true
		}
	}
	return false
}

func testLogOptions(t *testing.T, c *nodetest.Cluster) {
	pod := busybox("logopts", "for i in 1 2 3 4 5; do echo line $i; done; sleep 2; echo last line")
	pod.Spec.RestartPolicy = corev1.RestartPolicyNever
	create(t, c.Client, pod)
	waitPod(t, c.Client, pod.Namespace, pod.Name, 60*time.Second, "running", func(p *corev1.Pod) bool {
		return p.Status.Phase == corev1.PodRunning || p.Status.Phase == corev1.PodSucceeded
	})
	kubectl := testutil.Kubectl(t, "1.33")
	// -f follows until the container exits.
	out, err := c.RunKubectl(t, kubectl, "", "logs", "-f", pod.Name)
	if err != nil || !strings.HasSuffix(out, "line 5\nlast line\n") {
		t.Errorf("kubectl logs -f = %q, %v; want every line through the last", out, err)
	}
	out, err = c.RunKubectl(t, kubectl, "", "logs", "--tail=2", pod.Name)
	if err != nil || out != "line 5\nlast line\n" {
		t.Errorf("kubectl logs --tail=2 = %q, %v", out, err)
	}
	out, err = c.RunKubectl(t, kubectl, "", "logs", "--timestamps", "--tail=1", pod.Name)
	fields := strings.Fields(out)
	if err != nil || len(fields) != 3 || fields[1] != "last" {
		t.Fatalf("kubectl logs --timestamps = %q, %v", out, err)
	}
	if _, err := time.Parse(time.RFC3339Nano, fields[0]); err != nil {
		t.Errorf("timestamp %q: %v", fields[0], err)
	}
}

func testGraceThenKill(t *testing.T, c *nodetest.Cluster) {
	pod := busybox("stubborn", "trap '' TERM; while true; do sleep 1; done")
	pod.Spec.TerminationGracePeriodSeconds = new(int64(3))
	create(t, c.Client, pod)
	waitPod(t, c.Client, pod.Namespace, pod.Name, 60*time.Second, "running", running)
	start := time.Now()
	if err := c.Client.CoreV1().Pods(pod.Namespace).Delete(context.Background(), pod.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := c.Client.CoreV1().Pods(pod.Namespace).Get(context.Background(), pod.Name, metav1.GetOptions{}); err != nil {
			break
		}
		if time.Since(start) > 60*time.Second {
			t.Fatal("a pod that ignores SIGTERM was not killed after its 3 s grace period")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// It ignored SIGTERM, so only SIGKILL at the end of the grace period
	// could have ended it: it cannot be gone before.
	if d := time.Since(start); d < 3*time.Second {
		t.Errorf("pod gone after %v, before its 3 s grace period ended", d)
	}
}
