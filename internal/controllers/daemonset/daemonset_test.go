package daemonset

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func TestDaemonTolerations(t *testing.T) {
	keys := func(ts []corev1.Toleration) []string {
		var out []string
		for _, x := range ts {
			out = append(out, x.Key+":"+string(x.Effect))
		}
		return out
	}
	base := []string{
		"node.kubernetes.io/not-ready:NoExecute", "node.kubernetes.io/unreachable:NoExecute",
		"node.kubernetes.io/disk-pressure:NoSchedule", "node.kubernetes.io/memory-pressure:NoSchedule",
		"node.kubernetes.io/pid-pressure:NoSchedule", "node.kubernetes.io/unschedulable:NoSchedule",
	}
	tests := []struct {
		name        string
		hostNetwork bool
		want        []string
	}{
		{"pod network", false, base},
		{"host network", true, append(append([]string(nil), base...), "node.kubernetes.io/network-unavailable:NoSchedule")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := daemonTolerations(tt.hostNetwork)
			if diff := cmp.Diff(tt.want, keys(got)); diff != "" {
				t.Errorf("tolerations (-want +got):\n%s", diff)
			}
			for _, x := range got {
				if x.TolerationSeconds != nil {
					t.Errorf("%s has tolerationSeconds; daemons stay forever", x.Key)
				}
			}
		})
	}
	if n := len(addTolerations(daemonTolerations(false), daemonTolerations(false))); n != len(base) {
		t.Errorf("adding the same tolerations twice gives %d, want %d", n, len(base))
	}
}

func TestPlaceOn(t *testing.T) {
	node := func(labels map[string]string, taints ...corev1.Taint) *corev1.Node {
		return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: labels}, Spec: corev1.NodeSpec{Taints: taints}}
	}
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: "ns"}}
	pod := func(mut func(*corev1.PodSpec)) *corev1.Pod {
		tmpl := corev1.PodTemplateSpec{}
		if mut != nil {
			mut(&tmpl.Spec)
		}
		return podTemplate(ds, &tmpl, "h")
	}
	noSchedule := corev1.Taint{Key: "dedicated", Value: "infra", Effect: corev1.TaintEffectNoSchedule}
	noExecute := corev1.Taint{Key: "dedicated", Value: "infra", Effect: corev1.TaintEffectNoExecute}
	tolerate := func(s *corev1.PodSpec) {
		s.Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpExists}}
	}
	tests := []struct {
		name string
		pod  *corev1.Pod
		node *corev1.Node
		want placement
	}{
		{"plain node", pod(nil), node(nil), placement{true, true}},
		{"untolerated NoSchedule: no new pod, existing stays", pod(nil), node(nil, noSchedule), placement{false, true}},
		{"untolerated NoExecute", pod(nil), node(nil, noExecute), placement{}},
		{"tolerated taints", pod(tolerate), node(nil, noSchedule, noExecute), placement{true, true}},
		{"unschedulable node is tolerated", pod(nil), node(nil, corev1.Taint{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule}), placement{true, true}},
		{"network unavailable needs host network", pod(nil), node(nil, corev1.Taint{Key: corev1.TaintNodeNetworkUnavailable, Effect: corev1.TaintEffectNoSchedule}), placement{false, true}},
		{"node selector mismatch", pod(func(s *corev1.PodSpec) { s.NodeSelector = map[string]string{"disk": "ssd"} }), node(nil), placement{}},
		{"node selector match", pod(func(s *corev1.PodSpec) { s.NodeSelector = map[string]string{"disk": "ssd"} }), node(map[string]string{"disk": "ssd"}), placement{true, true}},
		{"required affinity mismatch", pod(func(s *corev1.PodSpec) {
			s.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
				NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"a"}}}}},
			}}}
		}), node(map[string]string{"zone": "b"}), placement{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := placeOn(tt.pod, tt.node); got != tt.want {
				t.Errorf("placeOn = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestPinToNode(t *testing.T) {
	pod := &corev1.Pod{}
	pinToNode(pod, "n7")
	if got := nodeOf(pod); got != "n7" {
		t.Errorf("nodeOf after pinToNode = %q, want n7", got)
	}
	pod.Spec.NodeName = "n8"
	if got := nodeOf(pod); got != "n8" {
		t.Errorf("nodeOf a bound pod = %q, want n8", got)
	}
}

func TestLimits(t *testing.T) {
	tests := []struct {
		name                   string
		surge, unavail         intstr.IntOrString
		desired                int
		wantSurge, wantUnavail int
	}{
		{"defaults", intstr.FromInt32(0), intstr.FromInt32(1), 10, 0, 1},
		{"percent rounds up", intstr.FromInt32(0), intstr.FromString("25%"), 10, 0, 3},
		{"surge", intstr.FromString("10%"), intstr.FromInt32(0), 10, 1, 0},
		{"both zero still progress", intstr.FromString("0%"), intstr.FromString("0%"), 10, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, u := limits(&appsv1.RollingUpdateDaemonSet{MaxSurge: ptr.To(tt.surge), MaxUnavailable: ptr.To(tt.unavail)}, tt.desired)
			if s != tt.wantSurge || u != tt.wantUnavail {
				t.Errorf("limits = %d, %d; want %d, %d", s, u, tt.wantSurge, tt.wantUnavail)
			}
		})
	}
}

func dpod(name, hash string, available bool) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{appsv1.DefaultDaemonSetUniqueLabelKey: hash}}}
	if available {
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(t0.Add(-time.Hour))}}
	}
	return p
}

func TestPlan(t *testing.T) {
	run := placement{true, true}
	n := func(name string, p placement, pods ...*corev1.Pod) nodeState {
		return nodeState{name: name, exists: true, place: p, pods: pods}
	}
	tests := []struct {
		name       string
		v          view
		wantCreate []string
		wantRemove []string
	}{
		{
			name:       "one pod per eligible node",
			v:          view{nodes: []nodeState{n("a", run), n("b", run, dpod("pb", "new", true)), n("c", placement{})}},
			wantCreate: []string{"a"},
		},
		{
			name:       "pods leave ineligible and removed nodes",
			v:          view{nodes: []nodeState{n("a", placement{}, dpod("pa", "new", true)), {name: "gone", pods: []*corev1.Pod{dpod("pg", "new", true)}}}},
			wantRemove: []string{"pa", "pg"},
		},
		{
			name:       "failed pods and duplicates go",
			v:          view{nodes: []nodeState{n("a", run, dpod("p1", "new", true), dpod("p2", "new", true)), n("b", run, &corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodFailed}, ObjectMeta: metav1.ObjectMeta{Name: "pf"}})}},
			wantCreate: []string{"b"},
			wantRemove: []string{"p2", "pf"},
		},
		{
			name: "rolling update within maxUnavailable",
			v: view{rolling: true, maxUnavailable: 1, nodes: []nodeState{
				n("a", run, dpod("pa", "old", true)), n("b", run, dpod("pb", "old", true)), n("c", run, dpod("pc", "old", true)),
			}},
			wantRemove: []string{"pa"},
		},
		{
			name: "unavailable old pods are replaced first and for free",
			v: view{rolling: true, maxUnavailable: 1, nodes: []nodeState{
				n("a", run, dpod("pa", "old", true)), n("b", run, dpod("pb", "old", false)), n("c", run, dpod("pc", "old", false)),
			}},
			wantRemove: []string{"pb", "pc"},
		},
		{
			name: "surge creates first and removes old once new is available",
			v: view{rolling: true, maxSurge: 1, nodes: []nodeState{
				n("a", run, dpod("pa", "old", true), dpod("na", "new", true)), n("b", run, dpod("pb", "old", true)), n("c", run, dpod("pc", "old", true)),
			}},
			wantCreate: []string{"b"},
			wantRemove: []string{"pa"},
		},
		{
			name: "OnDelete leaves old pods",
			v:    view{nodes: []nodeState{n("a", run, dpod("pa", "old", true))}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.v.hash, tt.v.now = "new", t0
			got, _ := plan(tt.v)
			var removed []string
			for _, p := range got.remove {
				removed = append(removed, p.Name)
			}
			if diff := cmp.Diff(tt.wantCreate, got.create); diff != "" {
				t.Errorf("create (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantRemove, removed); diff != "" {
				t.Errorf("remove (-want +got):\n%s", diff)
			}
		})
	}
}
