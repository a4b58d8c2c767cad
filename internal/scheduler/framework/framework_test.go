package framework

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
)

func container(cpu, mem string) corev1.Container {
	req := corev1.ResourceList{}
	if cpu != "" {
		req[corev1.ResourceCPU] = resource.MustParse(cpu)
	}
	if mem != "" {
		req[corev1.ResourceMemory] = resource.MustParse(mem)
	}
	return corev1.Container{Name: "c", Resources: corev1.ResourceRequirements{Requests: req}}
}

func TestPodRequests(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	sidecar := container("200m", "")
	sidecar.RestartPolicy = &always
	tests := []struct {
		name    string
		spec    corev1.PodSpec
		nonZero bool
		want    Resource
	}{
		{"containers add up", corev1.PodSpec{Containers: []corev1.Container{container("100m", "1Mi"), container("250m", "")}},
			false, Resource{MilliCPU: 350, Memory: 1 << 20, AllowedPodNumber: 1}},
		{"non-zero defaults", corev1.PodSpec{Containers: []corev1.Container{container("", ""), container("50m", "")}},
			true, Resource{MilliCPU: 150, Memory: 2 * DefaultMemoryRequest, AllowedPodNumber: 1}},
		{"init container peak wins", corev1.PodSpec{
			InitContainers: []corev1.Container{container("2", "")},
			Containers:     []corev1.Container{container("500m", "")}},
			false, Resource{MilliCPU: 2000, AllowedPodNumber: 1}},
		{"sidecars run alongside later init containers and the app", corev1.PodSpec{
			InitContainers: []corev1.Container{sidecar, container("1", "")},
			Containers:     []corev1.Container{container("500m", "")}},
			false, Resource{MilliCPU: 1200, AllowedPodNumber: 1}},
		{"overhead added", corev1.PodSpec{
			Containers: []corev1.Container{container("100m", "")},
			Overhead:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m")}},
			false, Resource{MilliCPU: 110, AllowedPodNumber: 1}},
		{"pod-level requests replace sums", corev1.PodSpec{
			Containers: []corev1.Container{container("100m", "1Mi")},
			Resources:  &corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}}},
			false, Resource{MilliCPU: 1000, Memory: 1 << 20, AllowedPodNumber: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PodRequests(&corev1.Pod{Spec: tt.spec}, tt.nonZero)
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("PodRequests (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIsScalarResource(t *testing.T) {
	for name, want := range map[corev1.ResourceName]bool{
		"cpu": false, "example.com/gpu": true, "hugepages-2Mi": true, "kubernetes.io/foo": false,
		"requests.example.com/x": true, "requests/x": false, "attachable-volumes-aws-ebs": true,
	} {
		if got := IsScalarResource(name); got != want {
			t.Errorf("IsScalarResource(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestNodeInfoAddRemoveClone(t *testing.T) {
	withPort := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{UID: "a"}, Spec: corev1.PodSpec{Containers: []corev1.Container{
		{Name: "c", Ports: []corev1.ContainerPort{{ContainerPort: 80, HostPort: 8080}}, Resources: container("1", "1Gi").Resources}}}}
	withAnti := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{UID: "b", Namespace: "ns"}, Spec: corev1.PodSpec{
		Containers: []corev1.Container{container("", "")},
		Affinity: &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{
			{LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "x"}}, TopologyKey: "zone"}}}}}}
	n := NewNodeInfo(withPort, withAnti)
	n.SetNode(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}, Status: corev1.NodeStatus{Allocatable: corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourcePods: resource.MustParse("110")}}})
	if n.Requested.MilliCPU != 1000 || n.NonZeroRequested.MilliCPU != 1100 || n.Requested.AllowedPodNumber != 2 {
		t.Fatalf("requested %+v, non-zero %+v", n.Requested, n.NonZeroRequested)
	}
	if len(n.PodsWithAffinity) != 1 || len(n.PodsWithRequiredAntiAffinity) != 1 {
		t.Fatalf("affinity lists %d/%d, want 1/1", len(n.PodsWithAffinity), len(n.PodsWithRequiredAntiAffinity))
	}
	if !n.UsedPorts.Conflicts(HostPort{Protocol: corev1.ProtocolTCP, IP: "10.0.0.1", Port: 8080}) {
		t.Error("host port 8080 on 0.0.0.0 should conflict with 10.0.0.1:8080")
	}
	if n.UsedPorts.Conflicts(HostPort{Protocol: corev1.ProtocolUDP, IP: "0.0.0.0", Port: 8080}) {
		t.Error("UDP 8080 should not conflict with TCP 8080")
	}
	clone := n.Clone()
	gen := n.Generation
	if !clone.RemovePod(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{UID: types.UID("a")}}) {
		t.Fatal("RemovePod did not find the pod")
	}
	if clone.Generation <= gen || n.Generation != gen {
		t.Errorf("generations: clone %d original %d (was %d)", clone.Generation, n.Generation, gen)
	}
	if len(n.Pods) != 2 || len(n.UsedPorts) != 1 || n.Requested.MilliCPU != 1000 {
		t.Errorf("removing from the clone changed the original: %d pods, %d ports", len(n.Pods), len(n.UsedPorts))
	}
	if len(clone.Pods) != 1 || len(clone.UsedPorts) != 0 || clone.Requested.MilliCPU != 0 || clone.Requested.AllowedPodNumber != 1 {
		t.Errorf("clone after remove: %d pods, %d ports, %+v", len(clone.Pods), len(clone.UsedPorts), clone.Requested)
	}
}

func TestAffinityTermMatches(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Labels: map[string]string{"app": "x", "rev": "1"}}, Spec: corev1.PodSpec{
		Affinity: &corev1.Affinity{PodAffinity: &corev1.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{
			{LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "x"}}, TopologyKey: "zone", MatchLabelKeys: []string{"rev"}},
			{LabelSelector: &metav1.LabelSelector{}, NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "a"}}, TopologyKey: "zone"},
		}}}}}
	pi := NewPodInfo(pod)
	if pi.ParseError != nil || len(pi.RequiredAffinityTerms) != 2 {
		t.Fatalf("parse: %v, %d terms", pi.ParseError, len(pi.RequiredAffinityTerms))
	}
	if diff := cmp.Diff(sets.New("web"), pi.RequiredAffinityTerms[0].Namespaces); diff != "" {
		t.Errorf("default namespace (-want +got):\n%s", diff)
	}
	other := func(ns string, l map[string]string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Labels: l}}
	}
	byLabels := pi.RequiredAffinityTerms[0]
	if !byLabels.Matches(other("web", map[string]string{"app": "x", "rev": "1"}), nil) {
		t.Error("same app and rev should match")
	}
	if byLabels.Matches(other("web", map[string]string{"app": "x", "rev": "2"}), nil) {
		t.Error("matchLabelKeys rev should exclude rev 2")
	}
	if byLabels.Matches(other("db", map[string]string{"app": "x", "rev": "1"}), nil) {
		t.Error("other namespace should not match")
	}
	bySelector := pi.RequiredAffinityTerms[1]
	if !bySelector.Matches(other("any", nil), map[string]string{"team": "a"}) || bySelector.Matches(other("any", nil), map[string]string{"team": "b"}) {
		t.Error("namespace selector team=a")
	}
}

func TestStatus(t *testing.T) {
	var nilStatus *Status
	if !nilStatus.IsSuccess() || nilStatus.AsError() != nil || nilStatus.Code() != Success {
		t.Error("nil status is success")
	}
	s := NewStatus(Unschedulable, "Insufficient cpu", "Insufficient memory").WithPlugin("Fit")
	if !s.IsRejected() || s.Plugin() != "Fit" || s.Message() != "Insufficient cpu, Insufficient memory" {
		t.Errorf("status %v %q %q", s.Code(), s.Plugin(), s.Message())
	}
	boom := errors.New("boom")
	if e := AsStatus(boom); !errors.Is(e.AsError(), boom) || e.Code() != Error {
		t.Errorf("AsStatus: %v", e.AsError())
	}
	if Skip.String() != "Skip" || Code(42).String() != "Unknown" {
		t.Error("code names")
	}
}

func TestCycleStateClone(t *testing.T) {
	cs := NewCycleState()
	cs.Write("k", &counter{n: 1})
	cs.SkipFilterPlugins = map[string]bool{"p": true}
	clone := cs.Clone()
	v, _ := clone.Read("k")
	v.(*counter).n = 5
	orig, _ := cs.Read("k")
	if orig.(*counter).n != 1 || !clone.SkipFilterPlugins["p"] {
		t.Errorf("clone not independent: %d", orig.(*counter).n)
	}
	if _, err := cs.Read("missing"); err == nil {
		t.Error("Read of a missing key should fail")
	}
}

// TestCycleStateConcurrentReadWrite reads from several goroutines while
// keys are written, as filters and a late pre-score do; run with -race.
func TestCycleStateConcurrentReadWrite(t *testing.T) {
	cs := NewCycleState()
	cs.Write("base", &counter{n: 1})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 1000 {
				if v, err := cs.Read("base"); err != nil || v.(*counter).n != 1 {
					t.Errorf("read base: %v %v", v, err)
					return
				}
			}
		})
	}
	for i := range 100 {
		cs.Write(StateKey(fmt.Sprint("k", i)), &counter{n: i})
	}
	wg.Wait()
	for i := range 100 {
		if v, err := cs.Read(StateKey(fmt.Sprint("k", i))); err != nil || v.(*counter).n != i {
			t.Fatalf("key %d: %v %v", i, v, err)
		}
	}
}

type counter struct{ n int }

func (c *counter) Clone() StateData { return &counter{n: c.n} }
