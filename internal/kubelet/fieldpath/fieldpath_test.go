package fieldpath

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func testPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: "web", Namespace: "prod", UID: "1234-abcd",
			Labels:      map[string]string{"app": "web", "tier": "front"},
			Annotations: map[string]string{"note": "say \"hi\"\n", "a.b/c": "x"},
		},
		Spec: corev1.PodSpec{
			NodeName: "node-1", ServiceAccountName: "builder",
			InitContainers: []corev1.Container{{Name: "init", Resources: corev1.ResourceRequirements{
				Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")},
			}}},
			Containers: []corev1.Container{{
				Name: "app",
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{
						corev1.ResourceCPU:              resource.MustParse("250m"),
						corev1.ResourceMemory:           resource.MustParse("100Mi"),
						corev1.ResourceEphemeralStorage: resource.MustParse("1G"),
					},
					Limits: corev1.ResourceList{
						corev1.ResourceCPU:                   resource.MustParse("1500m"),
						corev1.ResourceMemory:                resource.MustParse("1536Mi"),
						corev1.ResourceName("hugepages-2Mi"): resource.MustParse("4Mi"),
					},
				},
			}, {Name: "bare"}},
		},
		Status: corev1.PodStatus{
			HostIP: "192.0.2.10", HostIPs: []corev1.HostIP{{IP: "192.0.2.10"}, {IP: "2001:db8::10"}},
			PodIP: "10.42.0.7", PodIPs: []corev1.PodIP{{IP: "10.42.0.7"}, {IP: "fd00::7"}},
		},
	}
}

func TestFieldValue(t *testing.T) {
	pod := testPod()
	tests := []struct {
		path, want string
		wantErr    bool
	}{
		{path: "metadata.name", want: "web"},
		{path: "metadata.namespace", want: "prod"},
		{path: "metadata.uid", want: "1234-abcd"},
		{path: "metadata.labels['app']", want: "web"},
		{path: "metadata.labels['missing']", want: ""},
		{path: "metadata.annotations['a.b/c']", want: "x"},
		{path: "metadata.labels", want: "app=\"web\"\ntier=\"front\""},
		{path: "metadata.annotations", want: "a.b/c=\"x\"\nnote=\"say \\\"hi\\\"\\n\""},
		{path: "spec.nodeName", want: "node-1"},
		{path: "spec.serviceAccountName", want: "builder"},
		{path: "status.hostIP", want: "192.0.2.10"},
		{path: "status.hostIPs", want: "192.0.2.10,2001:db8::10"},
		{path: "status.podIP", want: "10.42.0.7"},
		{path: "status.podIPs", want: "10.42.0.7,fd00::7"},
		{path: "metadata.generation", wantErr: true},
		{path: "spec.containers['x']", wantErr: true},
		{path: "metadata.labels['']", want: ""},
		{path: "metadata.labels[']", wantErr: true},
		{path: "", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			got, err := FieldValue(pod, tc.path)
			if (err != nil) != tc.wantErr {
				t.Fatalf("FieldValue(%q) error = %v, wantErr %v", tc.path, err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("FieldValue(%q) = %q, want %q", tc.path, got, tc.want)
			}
		})
	}
}

func TestFieldValueEmptyMaps(t *testing.T) {
	got, err := FieldValue(&corev1.Pod{}, "metadata.labels")
	if err != nil || got != "" {
		t.Errorf("FieldValue(labels of empty pod) = %q, %v; want \"\", nil", got, err)
	}
}

func TestResourceValue(t *testing.T) {
	pod := testPod()
	alloc := corev1.ResourceList{
		corev1.ResourceCPU:              resource.MustParse("4"),
		corev1.ResourceMemory:           resource.MustParse("8Gi"),
		corev1.ResourceEphemeralStorage: resource.MustParse("100Gi"),
	}
	tests := []struct {
		name, container, res, divisor, want string
		wantErr                             bool
	}{
		{name: "cpu limit rounds up to cores", container: "app", res: "limits.cpu", want: "2"},
		{name: "cpu limit in millicores", container: "app", res: "limits.cpu", divisor: "1m", want: "1500"},
		{name: "cpu request rounds up", container: "app", res: "requests.cpu", want: "1"},
		{name: "cpu request in millicores", container: "app", res: "requests.cpu", divisor: "1m", want: "250"},
		{name: "cpu request in 100m", container: "app", res: "requests.cpu", divisor: "100m", want: "3"},
		{name: "memory limit bytes", container: "app", res: "limits.memory", want: "1610612736"},
		{name: "memory limit Gi rounds up", container: "app", res: "limits.memory", divisor: "1Gi", want: "2"},
		{name: "memory limit Mi", container: "app", res: "limits.memory", divisor: "1Mi", want: "1536"},
		{name: "memory request Mi", container: "app", res: "requests.memory", divisor: "1Mi", want: "100"},
		{name: "ephemeral request", container: "app", res: "requests.ephemeral-storage", divisor: "1M", want: "1000"},
		{name: "ephemeral limit falls back to node", container: "app", res: "limits.ephemeral-storage", divisor: "1Gi", want: "100"},
		{name: "hugepages limit", container: "app", res: "limits.hugepages-2Mi", divisor: "1Mi", want: "4"},
		{name: "no cpu limit: node allocatable", container: "bare", res: "limits.cpu", want: "4"},
		{name: "no memory limit: node allocatable", container: "bare", res: "limits.memory", divisor: "1Mi", want: "8192"},
		{name: "no request: zero", container: "bare", res: "requests.memory", want: "0"},
		{name: "no cpu request: zero", container: "bare", res: "requests.cpu", want: "0"},
		{name: "init container", container: "init", res: "limits.memory", divisor: "1Mi", want: "64"},
		{name: "memory divisor below one byte counts as 1", container: "app", res: "requests.memory", divisor: "1m", want: "104857600"},
		{name: "unknown container", container: "nope", res: "limits.cpu", wantErr: true},
		{name: "unknown resource", container: "app", res: "limits.gpu", wantErr: true},
		{name: "no kind", container: "app", res: "cpu", wantErr: true},
		{name: "bad kind", container: "app", res: "usage.cpu", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ref := &corev1.ResourceFieldSelector{ContainerName: tc.container, Resource: tc.res}
			if tc.divisor != "" {
				ref.Divisor = resource.MustParse(tc.divisor)
			}
			got, err := ResourceValue(pod, ref, alloc)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ResourceValue(%s) error = %v, wantErr %v", tc.res, err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("ResourceValue(%s) = %q, want %q", tc.res, got, tc.want)
			}
		})
	}
}

func FuzzFieldValue(f *testing.F) {
	for _, s := range []string{"metadata.labels['a']", "metadata.annotations['", "[''", "status.podIPs", "']"} {
		f.Add(s)
	}
	pod := testPod()
	f.Fuzz(func(t *testing.T, path string) {
		// Any input must return without panicking; known paths never error.
		_, _ = FieldValue(pod, path)
	})
}
