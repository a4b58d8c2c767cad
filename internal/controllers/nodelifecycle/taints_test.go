package nodelifecycle

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestConditionTaints(t *testing.T) {
	before := t0.Add(-time.Minute)
	noSchedule := func(key string, at time.Time) corev1.Taint { return taint(key, corev1.TaintEffectNoSchedule, at) }
	noExecute := func(key string, at time.Time) corev1.Taint { return taint(key, corev1.TaintEffectNoExecute, at) }
	user := corev1.Taint{Key: "example.com/dedicated", Value: "gpu", Effect: corev1.TaintEffectNoExecute}
	for _, tc := range []struct {
		name        string
		ready       corev1.ConditionStatus // "" for no Ready condition
		conditions  []corev1.NodeCondition
		unschedule  bool
		taints      []corev1.Taint
		want        []corev1.Taint
		wantChanged bool
	}{{
		name:  "ready node, no taints",
		ready: corev1.ConditionTrue,
	}, {
		name:        "not ready",
		ready:       corev1.ConditionFalse,
		want:        []corev1.Taint{noSchedule(corev1.TaintNodeNotReady, t0), noExecute(corev1.TaintNodeNotReady, t0)},
		wantChanged: true,
	}, {
		name:  "unknown swaps not-ready for unreachable",
		ready: corev1.ConditionUnknown,
		taints: []corev1.Taint{noSchedule(corev1.TaintNodeNotReady, before), noExecute(corev1.TaintNodeNotReady, before),
			user},
		want: []corev1.Taint{user, noSchedule(corev1.TaintNodeUnreachable, t0),
			noExecute(corev1.TaintNodeUnreachable, t0)},
		wantChanged: true,
	}, {
		name:        "a taint already there keeps its timeAdded",
		ready:       corev1.ConditionUnknown,
		taints:      []corev1.Taint{noExecute(corev1.TaintNodeUnreachable, before)},
		want:        []corev1.Taint{noExecute(corev1.TaintNodeUnreachable, before), noSchedule(corev1.TaintNodeUnreachable, t0)},
		wantChanged: true,
	}, {
		name:   "in line already",
		ready:  corev1.ConditionUnknown,
		taints: []corev1.Taint{noExecute(corev1.TaintNodeUnreachable, before), noSchedule(corev1.TaintNodeUnreachable, before)},
		want:   []corev1.Taint{noExecute(corev1.TaintNodeUnreachable, before), noSchedule(corev1.TaintNodeUnreachable, before)},
	}, {
		name:        "ready again removes ours and keeps the user's",
		ready:       corev1.ConditionTrue,
		taints:      []corev1.Taint{noExecute(corev1.TaintNodeUnreachable, before), user, noSchedule(corev1.TaintNodeUnreachable, before)},
		want:        []corev1.Taint{user},
		wantChanged: true,
	}, {
		name:   "an effect we do not own is kept",
		ready:  corev1.ConditionTrue,
		taints: []corev1.Taint{{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectPreferNoSchedule}},
		want:   []corev1.Taint{{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectPreferNoSchedule}},
	}, {
		name:   "before the first Ready report the kubelet's not-ready taint stays",
		taints: []corev1.Taint{{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoSchedule}},
		want:   []corev1.Taint{{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoSchedule}},
	}, {
		name:  "pressure and cordon",
		ready: corev1.ConditionTrue,
		conditions: []corev1.NodeCondition{
			{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionTrue},
			{Type: corev1.NodeDiskPressure, Status: corev1.ConditionFalse},
			{Type: corev1.NodePIDPressure, Status: corev1.ConditionUnknown},
			{Type: corev1.NodeNetworkUnavailable, Status: corev1.ConditionTrue},
		},
		unschedule: true,
		taints:     []corev1.Taint{noSchedule(corev1.TaintNodeDiskPressure, before)},
		want: []corev1.Taint{noSchedule(corev1.TaintNodeUnschedulable, t0), noSchedule(corev1.TaintNodeMemoryPressure, t0),
			noSchedule(corev1.TaintNodeNetworkUnavailable, t0)},
		wantChanged: true,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			node := makeNode("n", tc.ready, t0)
			if tc.ready != "" {
				node.Status.Conditions = node.Status.Conditions[:1] // Ready only
			}
			node.Status.Conditions = append(node.Status.Conditions, tc.conditions...)
			node.Spec.Unschedulable = tc.unschedule
			node.Spec.Taints = tc.taints
			want, owned := conditionTaints(node)
			got, changed := reconcileTaints(node.Spec.Taints, want, owned, metav1.NewTime(t0))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("taints (-want +got):\n%s", diff)
			}
			if changed != tc.wantChanged {
				t.Errorf("changed = %v, want %v", changed, tc.wantChanged)
			}
		})
	}
}
