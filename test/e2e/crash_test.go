package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// TestKillNineKeepsAcknowledgedWrites SIGKILLs tug server while clients
// create objects, restarts it on the same data directory and checks that
// every create the server acknowledged is there.
func TestKillNineKeepsAcknowledgedWrites(t *testing.T) {
	recordSources(t)
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s := &server{
		dataDir:    filepath.Join(dir, "data"),
		kubeconfig: filepath.Join(dir, "data", "kubeconfig.yaml"),
		url:        "https://127.0.0.1:" + strconv.Itoa(port),
		log:        filepath.Join(dir, "server.log"),
	}
	start := func() (*exec.Cmd, chan error) {
		t.Helper()
		logFile, err := os.OpenFile(s.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = logFile.Close() }()
		cmd := exec.Command(tugBinary, "server", "--data-dir", s.dataDir, "--https-port", strconv.Itoa(port),
			"--bind-address", "127.0.0.1", "--disable-agent")
		cmd.Stdout, cmd.Stderr = logFile, logFile
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		if err := s.waitReady(exited, 60*time.Second); err != nil {
			_ = cmd.Process.Kill()
			t.Fatalf("server not ready: %v", err)
		}
		return cmd, exited
	}

	first, exited := start()
	client := newClient(t, s.kubeconfig)
	var (
		mu    sync.Mutex
		acked []string
	)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				name := fmt.Sprintf("w%d-%d", w, i)
				_, err := client.CoreV1().ConfigMaps("default").Create(ctx,
					&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: map[string]string{"i": strconv.Itoa(i)}},
					metav1.CreateOptions{})
				if err != nil {
					return // the server is gone
				}
				mu.Lock()
				acked = append(acked, name)
				mu.Unlock()
			}
		})
	}
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 300 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := first.Process.Kill(); err != nil { // SIGKILL, mid-stream
		t.Fatal(err)
	}
	if err := <-exited; err == nil {
		t.Fatal("tug server exited cleanly after SIGKILL")
	}
	cancel()
	wg.Wait()

	second, exited := start()
	t.Cleanup(func() {
		if err := stopProcess(t, second.Process.Pid, exited); err != nil {
			t.Errorf("tug server: %v", err)
		}
	})
	client = newClient(t, s.kubeconfig)
	list, err := client.CoreV1().ConfigMaps("default").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	present := map[string]bool{}
	for _, cm := range list.Items {
		present[cm.Name] = true
	}
	for _, name := range acked {
		if !present[name] {
			t.Errorf("acknowledged create of %s lost after kill -9", name)
		}
	}
	t.Logf("%d acknowledged creates, all present after kill -9 and restart", len(acked))
}

func newClient(t *testing.T, kubeconfig string) kubernetes.Interface {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.QPS, cfg.Burst = -1, 0
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return client
}
