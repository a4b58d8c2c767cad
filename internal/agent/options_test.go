package agent

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestValidate(t *testing.T) {
	valid := Options{Simulated: true, Server: "https://127.0.0.1:6443", Token: "t"}
	for _, tc := range []struct {
		name    string
		change  func(*Options)
		wantErr bool
	}{
		{name: "defaults"},
		{name: "kubeconfig instead", change: func(o *Options) { o.Server, o.Token, o.Kubeconfig = "", "", "/k" }},
		{name: "labels and taints", change: func(o *Options) {
			o.NodeLabels = map[string]string{"team": "a"}
			o.NodeTaints = []string{"dedicated=sim:NoSchedule", "gpu:NoExecute"}
		}},
		{name: "both kubeconfig and server", change: func(o *Options) { o.Kubeconfig = "/k" }, wantErr: true},
		{name: "server without token", change: func(o *Options) { o.Token = "" }, wantErr: true},
		{name: "negative nodes", change: func(o *Options) { o.Nodes = -1 }, wantErr: true},
		{name: "bad cpu", change: func(o *Options) { o.NodeCPU = "lots" }, wantErr: true},
		{name: "zero memory", change: func(o *Options) { o.NodeMemory = "0" }, wantErr: true},
		{name: "bad prefix", change: func(o *Options) { o.NodeNamePrefix = "Sim_" }, wantErr: true},
		{name: "bad label", change: func(o *Options) { o.NodeLabels = map[string]string{"a b": "c"} }, wantErr: true},
		{name: "bad taint effect", change: func(o *Options) { o.NodeTaints = []string{"k=v:Sometimes"} }, wantErr: true},
		{name: "short lease", change: func(o *Options) { o.LeaseDuration = 1 }, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := valid
			if tc.change != nil {
				tc.change(&o)
			}
			if err := o.Validate(); (err != nil) != tc.wantErr {
				t.Errorf("Validate() = %v, want error %v", err, tc.wantErr)
			}
		})
	}
}

func TestValidateNodeAgent(t *testing.T) {
	valid := Options{Server: "https://127.0.0.1:6443", Token: "t"}
	if err := valid.Validate(); err != nil {
		t.Fatalf("Validate(%+v) = %v", valid, err)
	}
	for name, o := range map[string]Options{
		"kubeconfig":  {Kubeconfig: "/k"},
		"no token":    {Server: "https://127.0.0.1:6443"},
		"bad node ip": {Server: "https://127.0.0.1:6443", Token: "t", NodeIP: "nope"},
		"bad name":    {Server: "https://127.0.0.1:6443", Token: "t", NodeName: "Not_A_Name"},
		"bad port":    {Server: "https://127.0.0.1:6443", Token: "t", KubeletPort: 70000},
		"bad dns":     {Server: "https://127.0.0.1:6443", Token: "t", ClusterDNS: "x"},
		"bad taint":   {Server: "https://127.0.0.1:6443", Token: "t", NodeTaints: []string{"a"}},
		"bad label":   {Server: "https://127.0.0.1:6443", Token: "t", NodeLabels: map[string]string{"a b": "c"}},
	} {
		if err := o.Validate(); err == nil {
			t.Errorf("%s: Validate(%+v) = nil, want an error", name, o)
		}
	}
}

func TestParseTaints(t *testing.T) {
	got, err := ParseTaints([]string{"dedicated=sim:NoSchedule", "gpu:PreferNoSchedule"})
	if err != nil {
		t.Fatal(err)
	}
	want := []corev1.Taint{
		{Key: "dedicated", Value: "sim", Effect: corev1.TaintEffectNoSchedule},
		{Key: "gpu", Effect: corev1.TaintEffectPreferNoSchedule},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseTaints (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"novalue", "=v:NoSchedule", "k=v:"} {
		if _, err := ParseTaints([]string{bad}); err == nil {
			t.Errorf("ParseTaints(%q) accepted it", bad)
		}
	}
}

func TestCapacity(t *testing.T) {
	got, err := Options{NodeCPU: "8", NodeMemory: "16Gi", NodePods: 50}.capacity()
	if err != nil {
		t.Fatal(err)
	}
	want := corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse("8"), corev1.ResourceMemory: resource.MustParse("16Gi"),
		corev1.ResourcePods: resource.MustParse("50"), corev1.ResourceEphemeralStorage: resource.MustParse("100Gi"),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("capacity (-want +got):\n%s", diff)
	}
}
