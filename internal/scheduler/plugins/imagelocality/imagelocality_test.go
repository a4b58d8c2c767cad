package imagelocality

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

func nodeWithImages(name string, images ...corev1.ContainerImage) *framework.NodeInfo {
	ni := framework.NewNodeInfo()
	ni.SetNode(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NodeStatus{Images: images}})
	return ni
}

func img(sizeMB int64, names ...string) corev1.ContainerImage {
	return corev1.ContainerImage{Names: names, SizeBytes: sizeMB * mb}
}

func podWithImages(initImages []string, images ...string) *corev1.Pod {
	p := &corev1.Pod{}
	for _, i := range initImages {
		p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{Name: "i", Image: i})
	}
	for _, i := range images {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "c", Image: i})
	}
	return p
}

func TestScore(t *testing.T) {
	nodes := []*framework.NodeInfo{
		nodeWithImages("n1", img(500, "docker.io/library/nginx:latest", "docker.io/library/nginx@sha256:aa"), img(10, "docker.io/library/pause:3.10")),
		nodeWithImages("n2", img(500, "docker.io/library/nginx:latest"), img(300, "registry.example.com/team/app:v1")),
		nodeWithImages("n3"),
		nodeWithImages("n4", img(5000, "localhost:5000/huge:latest"), img(10, "docker.io/library/pause:3.10")),
	}
	tests := []struct {
		name string
		pod  *corev1.Pod
		want []int64
	}{
		// nginx on 2 of 4 nodes: 500 MiB * 0.5 = 250 MiB;
		// 100 * (250-23) / (1000-23) = 23.
		{name: "short name matches the qualified one", pod: podWithImages(nil, "nginx"), want: []int64{23, 23, 0, 0}},
		{name: "explicit latest tag", pod: podWithImages(nil, "nginx:latest"), want: []int64{23, 23, 0, 0}},
		{name: "qualified name", pod: podWithImages(nil, "docker.io/library/nginx"), want: []int64{23, 23, 0, 0}},
		// On 1 of 4 nodes: 125 MiB; 100 * 102 / 977 = 10.
		{name: "digest", pod: podWithImages(nil, "nginx@sha256:aa"), want: []int64{10, 0, 0, 0}},
		// Two containers: threshold 2000 MiB. n1: nginx 250 MiB,
		// 100 * 227 / 1977 = 11; n2: nginx 250 + app 300*0.25 = 325,
		// 100 * 302 / 1977 = 15.
		{
			name: "sizes add up across containers",
			pod:  podWithImages(nil, "registry.example.com/team/app:v1", "nginx"),
			want: []int64{11, 15, 0, 0},
		},
		{
			name: "init containers count",
			pod:  podWithImages([]string{"registry.example.com/team/app:v1"}, "nginx"),
			want: []int64{11, 15, 0, 0},
		},
		// 5000 MiB * 0.25 = 1250 MiB, clamped to 1000.
		{name: "registry with a port, clamped at the top", pod: podWithImages(nil, "localhost:5000/huge"), want: []int64{0, 0, 0, 100}},
		// 10 MiB * 0.5 is under 23 MiB.
		{name: "small images count for nothing", pod: podWithImages(nil, "pause:3.10"), want: []int64{0, 0, 0, 0}},
		{name: "other tag", pod: podWithImages(nil, "nginx:1.27"), want: nil},
		{name: "image on no node", pod: podWithImages(nil, "busybox"), want: nil},
	}
	pl := &ImageLocality{}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := framework.NewCycleState()
			st := pl.PreScore(ctx, state, tt.pod, nodes)
			if tt.want == nil {
				if !st.IsSkip() {
					t.Fatalf("PreScore code = %v, want Skip", st.Code())
				}
				return
			}
			if !st.IsSuccess() {
				t.Fatalf("PreScore: %v %s", st.Code(), st.Message())
			}
			var got []int64
			for _, ni := range nodes {
				s, st := pl.Score(ctx, state, tt.pod, ni)
				if !st.IsSuccess() {
					t.Fatalf("Score: %s", st.Message())
				}
				got = append(got, s)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("scores (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPreScoreSkipsNodesWithoutImages(t *testing.T) {
	nodes := []*framework.NodeInfo{nodeWithImages("n1"), nodeWithImages("n2")}
	if st := (&ImageLocality{}).PreScore(context.Background(), framework.NewCycleState(), podWithImages(nil, "nginx"), nodes); !st.IsSkip() {
		t.Errorf("code = %v, want Skip", st.Code())
	}
}

func TestNamesOf(t *testing.T) {
	tests := []struct {
		ref  string
		want imageNames
	}{
		{ref: "nginx", want: imageNames{"nginx:latest", "docker.io/library/nginx:latest"}},
		{ref: "nginx:1.27", want: imageNames{"nginx:1.27", "docker.io/library/nginx:1.27"}},
		{ref: "nginx@sha256:aa", want: imageNames{"nginx@sha256:aa", "docker.io/library/nginx@sha256:aa"}},
		{ref: "team/app", want: imageNames{"team/app:latest", "docker.io/team/app:latest"}},
		{ref: "docker.io/library/nginx:1.27", want: imageNames{"docker.io/library/nginx:1.27", ""}},
		{ref: "registry.example.com/app", want: imageNames{"registry.example.com/app:latest", ""}},
		{ref: "localhost:5000/app", want: imageNames{"localhost:5000/app:latest", ""}},
		{ref: "localhost/app:v1", want: imageNames{"localhost/app:v1", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, namesOf(tt.ref)); diff != "" {
				t.Errorf("namesOf (-want +got):\n%s", diff)
			}
		})
	}
}

func TestScale(t *testing.T) {
	tests := []struct {
		sum, containers, want int64
	}{
		{sum: 0, containers: 1, want: 0},
		{sum: 23 * mb, containers: 1, want: 0},
		{sum: 1000 * mb, containers: 1, want: 100},
		{sum: 1000 * mb, containers: 2, want: 49},
		{sum: 9000 * mb, containers: 3, want: 100},
	}
	for _, tt := range tests {
		if got := scale(tt.sum, tt.containers); got != tt.want {
			t.Errorf("scale(%d MiB, %d) = %d, want %d", tt.sum/mb, tt.containers, got, tt.want)
		}
	}
}

func TestScoreAllocations(t *testing.T) {
	pl := &ImageLocality{}
	ctx := context.Background()
	nodes := []*framework.NodeInfo{nodeWithImages("n1", img(500, "docker.io/library/nginx:latest"))}
	pod := podWithImages(nil, "nginx", "busybox")
	state := framework.NewCycleState()
	if st := pl.PreScore(ctx, state, pod, nodes); !st.IsSuccess() {
		t.Fatalf("PreScore: %s", st.Message())
	}
	allocs := testing.AllocsPerRun(100, func() {
		if _, st := pl.Score(ctx, state, pod, nodes[0]); !st.IsSuccess() {
			t.Fatalf("Score: %s", st.Message())
		}
	})
	if allocs != 0 {
		t.Errorf("Score allocates %v times per node, want 0", allocs)
	}
}
