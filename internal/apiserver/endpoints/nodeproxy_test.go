package endpoints

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugcluster/tug/internal/agent/simulated"
)

func TestPodContainer(t *testing.T) {
	pod := func(containers, initContainers []string) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}}
		for _, c := range containers {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: c})
		}
		for _, c := range initContainers {
			p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{Name: c})
		}
		p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug"}}}
		return p
	}
	tests := []struct {
		name      string
		pod       *corev1.Pod
		container string
		want      string
		wantErr   string
	}{
		{name: "only container", pod: pod([]string{"a"}, nil), want: "a"},
		{name: "named", pod: pod([]string{"a", "b"}, nil), container: "b", want: "b"},
		{name: "init container", pod: pod([]string{"a"}, []string{"setup"}), container: "setup", want: "setup"},
		{name: "ephemeral container", pod: pod([]string{"a"}, nil), container: "debug", want: "debug"},
		{name: "unknown", pod: pod([]string{"a"}, nil), container: "z", wantErr: "container z is not valid for pod p"},
		{name: "must choose", pod: pod([]string{"a", "b"}, nil),
			wantErr: "a container name must be specified for pod p, choose one of: [a b]"},
		{name: "must choose, with init containers", pod: pod([]string{"a", "b"}, []string{"i1", "i2"}),
			wantErr: "a container name must be specified for pod p, choose one of: [a b] or one of the init containers: [i1 i2]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := podContainer(tt.pod, tt.container)
			if tt.wantErr != "" {
				if !apierrors.IsBadRequest(err) || err.Error() != tt.wantErr {
					t.Errorf("err = %v, want bad request %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("podContainer = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestLogParams(t *testing.T) {
	tests := []struct {
		query    string
		want     string
		badReq   bool
		invalids int
	}{
		{query: "container=c&follow=true&previous=false&timestamps=1&tailLines=3&limitBytes=9&sinceSeconds=5",
			want: "follow=true&limitBytes=9&sinceSeconds=5&tailLines=3&timestamps=true"},
		{query: "sinceTime=2026-01-02T03:04:05Z", want: "sinceTime=2026-01-02T03%3A04%3A05Z"},
		{query: "tailLines=-1&limitBytes=0&sinceSeconds=0", invalids: 3},
		{query: "sinceSeconds=1&sinceTime=2026-01-02T03:04:05Z", invalids: 1},
		{query: "tailLines=many", badReq: true},
		{query: "follow=sure", badReq: true},
		{query: "sinceTime=now", badReq: true},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			q, _ := url.ParseQuery(tt.query)
			got, err := logParams("p", q)
			switch {
			case tt.badReq:
				if !apierrors.IsBadRequest(err) {
					t.Errorf("err = %v, want bad request", err)
				}
			case tt.invalids > 0:
				var status apierrors.APIStatus
				if !apierrors.IsInvalid(err) || !asStatus(err, &status) || len(status.Status().Details.Causes) != tt.invalids {
					t.Errorf("err = %v, want %d invalid fields", err, tt.invalids)
				}
			case err != nil || got.Encode() != tt.want:
				t.Errorf("logParams = %q, %v; want %q", got.Encode(), err, tt.want)
			}
		})
	}
}

func asStatus(err error, target *apierrors.APIStatus) bool {
	return errors.As(err, target)
}

func TestStreamParams(t *testing.T) {
	tests := []struct {
		query string
		exec  bool
		want  string
		err   string
	}{
		{query: "command=sh&command=-c&command=date&stdin=true&stdout=true&stderr=false&tty=true&container=c", exec: true,
			want: "command=sh&command=-c&command=date&input=1&output=1&tty=1"},
		{query: "stdout=true&stderr=true", want: "error=1&output=1"},
		{query: "tty=true&command=sh", exec: true, err: "you must specify at least 1 of stdin, stdout, stderr"},
		{query: "stdout=true", exec: true, err: "you must specify at least one command for the container"},
		{query: "stdout=perhaps", err: `stdout="perhaps" is not a boolean`},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			q, _ := url.ParseQuery(tt.query)
			got, err := streamParams(q, tt.exec)
			if tt.err != "" {
				if !apierrors.IsBadRequest(err) || err.Error() != tt.err {
					t.Errorf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || got.Encode() != tt.want {
				t.Errorf("streamParams = %q, %v; want %q", got.Encode(), err, tt.want)
			}
		})
	}
}

func TestKubeletURL(t *testing.T) {
	node := func(port int32, addrs ...corev1.NodeAddress) *corev1.Node {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}}
		n.Status.Addresses = addrs
		n.Status.DaemonEndpoints.KubeletEndpoint.Port = port
		return n
	}
	internal := corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "10.0.0.1"}
	external := corev1.NodeAddress{Type: corev1.NodeExternalIP, Address: "192.0.2.1"}
	hostname := corev1.NodeAddress{Type: corev1.NodeHostName, Address: "n"}
	tests := []struct {
		name string
		node *corev1.Node
		want string
	}{
		{name: "internal IP, default port", node: node(0, hostname, external, internal), want: "https://10.0.0.1:10250"},
		{name: "external IP, advertised port", node: node(10260, hostname, external), want: "https://192.0.2.1:10260"},
		{name: "IPv6", node: node(0, corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "fd00::1"}), want: "https://[fd00::1]:10250"},
		{name: "no address", node: node(0, hostname)},
		{name: "simulated", node: func() *corev1.Node {
			n := node(simulated.KubeletPort, corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: simulated.NodeIP(1).String()})
			n.Status.NodeInfo.ContainerRuntimeVersion = simulated.RuntimeVersion
			return n
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := kubeletURL(tt.node)
			if tt.want == "" {
				if !apierrors.IsServiceUnavailable(err) {
					t.Errorf("err = %v, want service unavailable", err)
				}
				return
			}
			if err != nil || got.String() != tt.want {
				t.Errorf("kubeletURL = %v, %v; want %s", got, err, tt.want)
			}
		})
	}
}

func TestKubeletError(t *testing.T) {
	tests := []struct {
		name string
		code int
		body string
		want metav1.Status
	}{
		{
			name: "the kubelet's Status", code: 404,
			body: `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"container \"c\" in pod \"ns/p\" not found","reason":"NotFound","code":404}`,
			want: metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusFailure,
				Message: `container "c" in pod "ns/p" not found`, Reason: metav1.StatusReasonNotFound, Code: 404},
		},
		{
			name: "plain text", code: 400, body: "bad things\n",
			want: metav1.Status{Status: metav1.StatusFailure, Message: "bad things", Reason: metav1.StatusReasonBadRequest, Code: 400,
				Details: &metav1.StatusDetails{Name: "p", Kind: "pods"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := &http.Response{StatusCode: tt.code, Body: io.NopCloser(strings.NewReader(tt.body))}
			var status apierrors.APIStatus
			if !asStatus(kubeletError(resp, "p"), &status) {
				t.Fatal("not an API status")
			}
			if diff := cmp.Diff(tt.want, status.Status()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
