package node

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/tugcluster/tug/internal/testutil/nodetest"
)

// BenchmarkServiceVsPodIP measures HTTP requests per second to one
// busybox httpd pod, from node-0's network namespace, through its
// Service's ClusterIP (DNAT by the nftables proxy) and to its pod IP
// directly; the pod runs on node-1, so both cross the nodes' bridge.
//
//	go test -run '^$' -bench ServiceVsPodIP -benchtime 1x ./test/node/
func BenchmarkServiceVsPodIP(b *testing.B) {
	c := nodetest.StartCluster(b, 2)
	pod := httpdPod("bench-web")
	pod.Labels = map[string]string{"app": "bench-web"}
	create(b, c.Client, on(pod, "node-1"))
	pod = waitPod(b, c.Client, pod.Namespace, pod.Name, 60*time.Second, "running", running)
	svc := createService(b, c, "bench-web", corev1.ServiceSpec{Selector: pod.Labels,
		Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}})
	waitEndpoints(b, c, svc.Name, 1)
	time.Sleep(time.Second) // the proxies' sync after the endpoint appeared
	client := nsHTTPClient(b, "/run/netns/"+c.Nodes[0].NetNS)
	const requests, workers = 3000, 8
	for range b.N {
		b.ReportMetric(requestRate(b, client, "http://"+pod.Status.PodIP+":8080/", requests, workers), "podIP-req/s")
		b.ReportMetric(requestRate(b, client, "http://"+svc.Spec.ClusterIP+"/", requests, workers), "clusterIP-req/s")
	}
}

// nsHTTPClient is an HTTP client whose connections are made in the
// network namespace at path: a socket belongs to the namespace of the
// thread that creates it.
func nsHTTPClient(b *testing.B, path string) *http.Client {
	target, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = target.Close() })
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		self, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
		if err != nil {
			return nil, err
		}
		defer func() { _ = self.Close() }()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			return nil, err
		}
		// Back to our own namespace before the thread is let go.
		defer func() { _ = unix.Setns(int(self.Fd()), unix.CLONE_NEWNET) }()
		return (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, addr)
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: dial, MaxIdleConnsPerHost: 64}}
}

// requestRate sends n GETs to url over workers concurrent clients and
// returns the rate; any failure fails the benchmark.
func requestRate(b *testing.B, client *http.Client, url string, n, workers int) float64 {
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				resp, err := client.Get(url)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("GET %s: %s", url, resp.Status)
					return
				}
			}
		})
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds()
}
