package node

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/tugcluster/tug/internal/testutil"
	"github.com/tugcluster/tug/internal/testutil/nodetest"
)

// TestPods runs the pod scenarios of the node agent on one real node.
func TestPods(t *testing.T) {
	c := nodetest.StartCluster(t, 1)
	t.Run("RunsAndLogs", func(t *testing.T) { t.Parallel(); testRunsAndLogs(t, c) })
	t.Run("RunToCompletion", func(t *testing.T) { t.Parallel(); testRunToCompletion(t, c) })
	t.Run("CrashLoopBackOff", func(t *testing.T) { t.Parallel(); testCrashLoop(t, c) })
	t.Run("InitContainersInOrder", func(t *testing.T) { t.Parallel(); testInitContainers(t, c) })
	t.Run("EnvFromConfigMapAndSecret", func(t *testing.T) { t.Parallel(); testEnv(t, c) })
	t.Run("Probes", func(t *testing.T) { t.Parallel(); testProbes(t, c) })
	t.Run("ConfigMapVolumeUpdates", func(t *testing.T) { t.Parallel(); testConfigMapVolume(t, c) })
	t.Run("GracefulDeleteRunsPreStop", func(t *testing.T) { t.Parallel(); testPreStop(t, c) })
	t.Run("SidecarStopsAfterMain", func(t *testing.T) { t.Parallel(); testSidecarStopsLast(t, c) })
}

func testRunsAndLogs(t *testing.T, c *nodetest.Cluster) {
	pod := create(t, c.Client, busybox("hello", "echo hello from tug; echo to stderr >&2; sleep 3600"))
	got := waitPod(t, c.Client, pod.Namespace, pod.Name, 60*time.Second, "running", running)
	if got.Status.PodIP == "" || got.Status.HostIP != c.Nodes[0].IP {
		t.Errorf("pod IPs: podIP %q hostIP %q, want a pod IP and host IP %s", got.Status.PodIP, got.Status.HostIP, c.Nodes[0].IP)
	}
	if !strings.HasPrefix(got.Status.PodIP, "10.42.") {
		t.Errorf("pod IP %s is not from the node's pod CIDR", got.Status.PodIP)
	}
	cs := got.Status.ContainerStatuses[0]
	if !strings.HasPrefix(cs.ContainerID, "containerd://") || cs.ImageID == "" || cs.Started == nil || !*cs.Started || got.Status.StartTime == nil {
		t.Errorf("container status %+v (startTime %v): want containerd ID, image ID, started", cs, got.Status.StartTime)
	}
	if got.Status.QOSClass != corev1.PodQOSBestEffort {
		t.Errorf("qosClass = %s, want BestEffort", got.Status.QOSClass)
	}
	out, err := c.RunKubectl(t, testutil.Kubectl(t, "1.33"), "", "logs", pod.Name)
	if err != nil {
		t.Fatalf("kubectl logs: %v\n%s", err, out)
	}
	if !strings.Contains(out, "hello from tug") || !strings.Contains(out, "to stderr") {
		t.Errorf("kubectl logs = %q, want both lines", out)
	}
	if ws := readLogsOverWebSocket(t, c, pod.Name); !strings.Contains(ws, "hello from tug") {
		t.Errorf("pods/log over a websocket = %q, want the log", ws)
	}
}

func testRunToCompletion(t *testing.T, c *nodetest.Cluster) {
	ok := busybox("done-ok", "echo finished")
	ok.Spec.RestartPolicy = corev1.RestartPolicyNever
	bad := busybox("done-bad", "echo -n bad news > /dev/termination-log; exit 3")
	bad.Spec.RestartPolicy = corev1.RestartPolicyNever
	create(t, c.Client, ok)
	create(t, c.Client, bad)
	got := waitPod(t, c.Client, ok.Namespace, ok.Name, 60*time.Second, "Succeeded", succeeded)
	if term := got.Status.ContainerStatuses[0].State.Terminated; term == nil || term.ExitCode != 0 || term.Reason != "Completed" {
		t.Errorf("succeeded container state = %+v, want terminated 0 Completed", got.Status.ContainerStatuses[0].State)
	}
	got = waitPod(t, c.Client, bad.Namespace, bad.Name, 60*time.Second, "Failed", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodFailed })
	term := got.Status.ContainerStatuses[0].State.Terminated
	if term == nil || term.ExitCode != 3 || term.Reason != "Error" || term.Message != "bad news" {
		t.Errorf("failed container state = %+v, want terminated 3 Error with message", got.Status.ContainerStatuses[0].State)
	}
}

func testCrashLoop(t *testing.T, c *nodetest.Cluster) {
	pod := create(t, c.Client, busybox("crasher", "echo crashing; exit 2"))
	got := waitPod(t, c.Client, pod.Namespace, pod.Name, 60*time.Second, "in CrashLoopBackOff after a restart", func(p *corev1.Pod) bool {
		if len(p.Status.ContainerStatuses) == 0 {
			return false
		}
		cs := p.Status.ContainerStatuses[0]
		return cs.RestartCount >= 1 && cs.State.Waiting != nil && cs.State.Waiting.Reason == "CrashLoopBackOff"
	})
	cs := got.Status.ContainerStatuses[0]
	if last := cs.LastTerminationState.Terminated; last == nil || last.ExitCode != 2 {
		t.Errorf("lastState = %+v, want terminated with exit code 2", cs.LastTerminationState)
	}
	if got.Status.Phase != corev1.PodRunning || cs.Ready {
		t.Errorf("phase %s ready %v, want Running and not ready", got.Status.Phase, cs.Ready)
	}
	out, err := c.RunKubectl(t, testutil.Kubectl(t, "1.33"), "", "logs", pod.Name, "--previous")
	if err != nil || !strings.Contains(out, "crashing") {
		t.Errorf("kubectl logs --previous = %q, %v; want the crashed container's output", out, err)
	}
}

func testInitContainers(t *testing.T, c *nodetest.Cluster) {
	pod := busybox("init-order", "cat /work/order; sleep 3600")
	pod.Spec.Volumes = []corev1.Volume{{Name: "work", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	mount := []corev1.VolumeMount{{Name: "work", MountPath: "/work"}}
	pod.Spec.Containers[0].VolumeMounts = mount
	for _, name := range []string{"first", "second", "third"} {
		pod.Spec.InitContainers = append(pod.Spec.InitContainers, corev1.Container{
			Name: name, Image: nodetest.BusyboxImage, ImagePullPolicy: corev1.PullNever,
			Command: []string{"sh", "-c", "echo " + name + " >> /work/order"}, VolumeMounts: mount,
		})
	}
	create(t, c.Client, pod)
	got := waitPod(t, c.Client, pod.Namespace, pod.Name, 60*time.Second, "running", running)
	for _, st := range got.Status.InitContainerStatuses {
		if st.State.Terminated == nil || st.State.Terminated.ExitCode != 0 {
			t.Errorf("init container %s state %+v, want terminated 0", st.Name, st.State)
		}
	}
	out := waitLogs(t, c, pod.Name, "third")
	if strings.TrimSpace(out) != "first\nsecond\nthird" {
		t.Errorf("init containers ran in order %q, want first, second, third", out)
	}
}

func testEnv(t *testing.T, c *nodetest.Cluster) {
	ctx := context.Background()
	ns := metav1.NamespaceDefault
	if _, err := c.Client.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "env-config"}, Data: map[string]string{"COLOR": "blue", "SIZE": "large"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Client.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "env-secret"}, Data: map[string][]byte{"password": []byte("s3cret")},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := busybox("env", "echo COLOR=$COLOR SIZE=$CFG_SIZE PASSWORD=$PASSWORD POD=$POD_NAME GREETING=$GREETING K8S=$KUBERNETES_SERVICE_HOST; sleep 3600")
	pod.Spec.Containers[0].EnvFrom = []corev1.EnvFromSource{{Prefix: "CFG_", ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "env-config"}}}}
	pod.Spec.Containers[0].Env = []corev1.EnvVar{
		{Name: "COLOR", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "env-config"}, Key: "COLOR"}}},
		{Name: "PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "env-secret"}, Key: "password"}}},
		{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
		{Name: "GREETING", Value: "hello-$(COLOR)"},
	}
	create(t, c.Client, pod)
	waitPod(t, c.Client, pod.Namespace, pod.Name, 60*time.Second, "running", running)
	out := waitLogs(t, c, pod.Name, "COLOR=")
	want := "COLOR=blue SIZE=large PASSWORD=s3cret POD=env GREETING=hello-blue K8S="
	if !strings.HasPrefix(strings.TrimSpace(out), want) {
		t.Errorf("environment = %q, want it to start with %q", out, want)
	}
	if strings.HasSuffix(strings.TrimSpace(out), "K8S=") {
		t.Errorf("KUBERNETES_SERVICE_HOST is empty in %q", out)
	}
}

func testProbes(t *testing.T, c *nodetest.Cluster) {
	// Liveness fails once /tmp/healthy is gone: the container restarts.
	live := busybox("liveness", "touch /tmp/healthy; sleep 5; rm /tmp/healthy; sleep 3600")
	live.Spec.Containers[0].LivenessProbe = &corev1.Probe{
		ProbeHandler:  corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"cat", "/tmp/healthy"}}},
		PeriodSeconds: 1, FailureThreshold: 2,
	}
	// Readiness over HTTP: ready while httpd serves, on a port by name.
	ready := busybox("readiness", "mkdir -p /www && echo ok > /www/index.html && httpd -f -p 8080 -h /www")
	ready.Spec.Containers[0].Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}
	ready.Spec.Containers[0].ReadinessProbe = &corev1.Probe{
		ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/index.html", Port: intstr.FromString("http")}},
		PeriodSeconds: 1,
	}
	// Readiness that never passes: TCP to a port nobody listens on.
	never := busybox("never-ready", "sleep 3600")
	never.Spec.Containers[0].ReadinessProbe = &corev1.Probe{
		ProbeHandler:  corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(9)}},
		PeriodSeconds: 1,
	}
	// A startup probe that passes after a while gates readiness.
	startup := busybox("startup", "sleep 3; touch /tmp/started; sleep 3600")
	startup.Spec.Containers[0].StartupProbe = &corev1.Probe{
		ProbeHandler:  corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"test", "-e", "/tmp/started"}}},
		PeriodSeconds: 1, FailureThreshold: 30,
	}
	for _, p := range []*corev1.Pod{live, ready, never, startup} {
		create(t, c.Client, p)
	}
	waitPod(t, c.Client, live.Namespace, live.Name, 60*time.Second, "restarted by its liveness probe", func(p *corev1.Pod) bool {
		return len(p.Status.ContainerStatuses) > 0 && p.Status.ContainerStatuses[0].RestartCount >= 1
	})
	waitPod(t, c.Client, ready.Namespace, ready.Name, 60*time.Second, "ready", running)
	got := waitPod(t, c.Client, startup.Namespace, startup.Name, 60*time.Second, "ready", running)
	if cs := got.Status.ContainerStatuses[0]; cs.Started == nil || !*cs.Started {
		t.Errorf("startup container status %+v: want started", cs)
	}
	waitPod(t, c.Client, never.Namespace, never.Name, 60*time.Second, "running", func(p *corev1.Pod) bool {
		return p.Status.Phase == corev1.PodRunning
	})
	time.Sleep(3 * time.Second) // several probe periods
	got = waitPod(t, c.Client, never.Namespace, never.Name, time.Second, "running", func(p *corev1.Pod) bool { return true })
	if isReady(got) || got.Status.ContainerStatuses[0].Ready {
		t.Errorf("pod whose readiness probe fails is ready: %s", describe(got))
	}
}

func testConfigMapVolume(t *testing.T, c *nodetest.Cluster) {
	ctx := context.Background()
	cms := c.Client.CoreV1().ConfigMaps(metav1.NamespaceDefault)
	cm, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "live-config"}, Data: map[string]string{"greeting": "v1"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pod := busybox("cm-volume", "while true; do cat /config/greeting; echo; sleep 1; done")
	pod.Spec.Volumes = []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: "live-config"}}}}}
	pod.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "config", MountPath: "/config"}}
	create(t, c.Client, pod)
	waitPod(t, c.Client, pod.Namespace, pod.Name, 60*time.Second, "running", running)
	waitLogs(t, c, pod.Name, "v1")
	cm.Data["greeting"] = "v2"
	if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitLogs(t, c, pod.Name, "v2")
}

func testPreStop(t *testing.T, c *nodetest.Cluster) {
	marks := hostMarks(t)
	pod := busybox("prestop", "trap 'echo got TERM >> /marks/log; exit 0' TERM; while true; do sleep 1; done")
	pod.Spec.TerminationGracePeriodSeconds = new(int64(20))
	pod.Spec.Volumes = []corev1.Volume{{Name: "marks", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: marks}}}}
	pod.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "marks", MountPath: "/marks"}}
	pod.Spec.Containers[0].Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{
		Exec: &corev1.ExecAction{Command: []string{"sh", "-c", "echo prestop >> /marks/log"}},
	}}
	create(t, c.Client, pod)
	waitPod(t, c.Client, pod.Namespace, pod.Name, 60*time.Second, "running", running)
	deleteGracefully(t, c, pod)
	if data := readMarks(t, marks); data != "prestop\ngot TERM\n" {
		t.Errorf("marks = %q, want the preStop hook, then SIGTERM", data)
	}
}

// testSidecarStopsLast: on deletion the regular container stops first (its
// preStop hook takes two seconds), then the sidecar, as upstream's kubelet
// orders them; stopped together, the sidecar's hook would write first.
func testSidecarStopsLast(t *testing.T, c *nodetest.Cluster) {
	marks := hostMarks(t)
	mount := []corev1.VolumeMount{{Name: "marks", MountPath: "/marks"}}
	hook := func(script string) *corev1.Lifecycle {
		return &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"sh", "-c", script}}}}
	}
	pod := busybox("sidecar-last", "trap 'exit 0' TERM; while true; do sleep 1; done")
	pod.Spec.TerminationGracePeriodSeconds = new(int64(20))
	pod.Spec.Volumes = []corev1.Volume{{Name: "marks", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: marks}}}}
	pod.Spec.Containers[0].VolumeMounts = mount
	pod.Spec.Containers[0].Lifecycle = hook("sleep 2; echo main >> /marks/log")
	always := corev1.ContainerRestartPolicyAlways
	pod.Spec.InitContainers = []corev1.Container{{
		Name: "sidecar", Image: nodetest.BusyboxImage, ImagePullPolicy: corev1.PullNever, RestartPolicy: &always,
		Command: []string{"sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"}, VolumeMounts: mount,
		Lifecycle: hook("echo sidecar >> /marks/log"),
	}}
	create(t, c.Client, pod)
	waitPod(t, c.Client, pod.Namespace, pod.Name, 60*time.Second, "running", running)
	deleteGracefully(t, c, pod)
	if data := readMarks(t, marks); data != "main\nsidecar\n" {
		t.Errorf("preStop hooks ran as %q, want the main container's, then the sidecar's", data)
	}
}

// hostMarks is a host directory a pod writes marks into, readable after
// the pod is gone.
func hostMarks(t *testing.T) string {
	t.Helper()
	marks := filepath.Join(t.TempDir(), "marks")
	if err := os.MkdirAll(marks, 0o777); err != nil {
		t.Fatal(err)
	}
	return marks
}

func readMarks(t *testing.T, marks string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(marks, "log"))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// deleteGracefully deletes pod and waits until the kubelet has finished
// the deletion and the object is gone.
func deleteGracefully(t *testing.T, c *nodetest.Cluster, pod *corev1.Pod) {
	t.Helper()
	if err := c.Client.CoreV1().Pods(pod.Namespace).Delete(context.Background(), pod.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := c.Client.CoreV1().Pods(pod.Namespace).Get(context.Background(), pod.Name, metav1.GetOptions{}); err != nil {
			return // gone: the kubelet finished the deletion
		}
		if time.Now().After(deadline) {
			t.Fatalf("pod %s not removed after graceful delete", pod.Name)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitLogs polls kubectl logs of pod until it contains want.
func waitLogs(t *testing.T, c *nodetest.Cluster, pod, want string) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err := c.RunKubectl(t, testutil.Kubectl(t, "1.33"), "", "logs", pod, "-c", "main")
		if err == nil && strings.Contains(out, want) {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("kubectl logs %s: no %q within 60s: %q, %v", pod, want, out, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
