package statefulset

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func TestParseOrdinal(t *testing.T) {
	tests := []struct {
		pod  string
		want int
		ok   bool
	}{
		{"web-0", 0, true}, {"web-12", 12, true}, {"web-", 0, false}, {"web-01", 0, false},
		{"web-x", 0, false}, {"web-1-2", 0, false}, {"webb-1", 0, false}, {"web--1", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.pod, func(t *testing.T) {
			got, ok := parseOrdinal("web", tt.pod)
			if got != tt.want || ok != tt.ok {
				t.Errorf("parseOrdinal(web, %s) = %d, %v; want %d, %v", tt.pod, got, ok, tt.want, tt.ok)
			}
		})
	}
}

type podOpt func(*corev1.Pod)

func readyFor(d time.Duration) podOpt {
	return func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(t0.Add(-d))}}
	}
}

func rev(r string) podOpt {
	return func(p *corev1.Pod) { p.Labels[appsv1.ControllerRevisionHashLabelKey] = r }
}

func dying(p *corev1.Pod) { p.DeletionTimestamp = &metav1.Time{Time: t0} }

func mk(opts ...podOpt) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{appsv1.ControllerRevisionHashLabelKey: "new"}}}
	for _, o := range opts {
		o(p)
	}
	return p
}

func TestPlan(t *testing.T) {
	up := readyFor(time.Hour)
	tests := []struct {
		name     string
		v        view
		want     []action
		wantWait time.Duration
	}{
		{
			name: "ordered creates the first missing ordinal only",
			v:    view{replicas: 3, ordered: true, pods: map[int]*corev1.Pod{}},
			want: []action{{create, 0}},
		},
		{
			name: "ordered waits for an unready pod",
			v:    view{replicas: 3, ordered: true, pods: map[int]*corev1.Pod{0: mk(up), 1: mk()}},
		},
		{
			name:     "ordered waits for minReadySeconds",
			v:        view{replicas: 3, ordered: true, minReady: time.Minute, pods: map[int]*corev1.Pod{0: mk(readyFor(20 * time.Second))}},
			wantWait: 40 * time.Second,
		},
		{
			name: "parallel creates all missing and honors ordinals.start",
			v:    view{start: 5, replicas: 3, pods: map[int]*corev1.Pod{6: mk()}},
			want: []action{{create, 5}, {create, 7}},
		},
		{
			name: "failed pod is recreated",
			v:    view{replicas: 2, ordered: true, pods: map[int]*corev1.Pod{0: mk(func(p *corev1.Pod) { p.Status.Phase = corev1.PodFailed }), 1: mk(up)}},
			want: []action{{recreate, 0}},
		},
		{
			name: "ordered scale down removes the highest ordinal first",
			v:    view{replicas: 1, ordered: true, pods: map[int]*corev1.Pod{0: mk(up), 1: mk(up), 2: mk(up)}},
			want: []action{{condemn, 2}},
		},
		{
			name: "ordered scale down waits for the terminating pod",
			v:    view{replicas: 1, ordered: true, pods: map[int]*corev1.Pod{0: mk(up), 1: mk(up), 2: mk(up, dying)}},
		},
		{
			name: "ordered scale down still removes a ready pod above the lowest unhealthy one",
			v:    view{replicas: 0, ordered: true, pods: map[int]*corev1.Pod{0: mk(), 1: mk(up), 2: mk(up)}},
			want: []action{{condemn, 2}},
		},
		{
			name: "ordered scale down halts on an unready pod above the lowest unhealthy one",
			v:    view{replicas: 0, ordered: true, pods: map[int]*corev1.Pod{0: mk(), 1: mk(up), 2: mk()}},
		},
		{
			name: "ordered scale down halts when every condemned pod is unready",
			v: view{replicas: 0, ordered: true, pods: map[int]*corev1.Pod{0: mk(), 1: mk(), 2: mk(func(p *corev1.Pod) {
				p.Status.Phase = corev1.PodRunning
			})}},
		},
		{
			name: "ordered scale down removes the lowest unhealthy pod when it is the highest",
			v:    view{replicas: 1, ordered: true, pods: map[int]*corev1.Pod{0: mk(up), 1: mk(up), 2: mk()}},
			want: []action{{condemn, 2}},
		},
		{
			name: "ordered scale down halts on a failed condemned pod above an unready one",
			v: view{replicas: 1, ordered: true, pods: map[int]*corev1.Pod{0: mk(up), 1: mk(), 2: mk(func(p *corev1.Pod) {
				p.Status.Phase = corev1.PodFailed
			})}},
		},
		{
			name:     "ordered scale down waits for minReadySeconds of a condemned pod",
			v:        view{replicas: 1, ordered: true, minReady: time.Minute, pods: map[int]*corev1.Pod{0: mk(up), 1: mk(readyFor(20 * time.Second))}},
			wantWait: 40 * time.Second,
		},
		{
			name: "ordered scale down halts on an unready in-range pod",
			v:    view{replicas: 1, ordered: true, pods: map[int]*corev1.Pod{0: mk(), 1: mk(up)}},
		},
		{
			name: "parallel scale down removes unhealthy pods too",
			v:    view{replicas: 0, pods: map[int]*corev1.Pod{0: mk(), 1: mk(up), 2: mk()}},
			want: []action{{condemn, 2}, {condemn, 1}, {condemn, 0}},
		},
		{
			name: "parallel scale down removes all",
			v:    view{replicas: 1, pods: map[int]*corev1.Pod{0: mk(up), 1: mk(up), 2: mk(up)}},
			want: []action{{condemn, 2}, {condemn, 1}},
		},
		{
			name: "rolling update from the highest ordinal, one at a time",
			v: view{replicas: 3, ordered: true, rolling: true, maxUnavailable: 1, updateRevision: "new",
				pods: map[int]*corev1.Pod{0: mk(up, rev("old")), 1: mk(up, rev("old")), 2: mk(up, rev("old"))}},
			want: []action{{update, 2}},
		},
		{
			name: "partition keeps lower ordinals",
			v: view{replicas: 3, ordered: true, rolling: true, partition: 2, maxUnavailable: 1, updateRevision: "new",
				pods: map[int]*corev1.Pod{0: mk(up, rev("old")), 1: mk(up, rev("old")), 2: mk(up)}},
		},
		{
			name: "maxUnavailable 2 updates two",
			v: view{replicas: 3, rolling: true, partition: 0, maxUnavailable: 2, updateRevision: "new",
				pods: map[int]*corev1.Pod{0: mk(up, rev("old")), 1: mk(up, rev("old")), 2: mk(up, rev("old"))}},
			want: []action{{update, 2}, {update, 1}},
		},
		{
			name: "OnDelete never deletes for an update",
			v:    view{replicas: 2, ordered: true, updateRevision: "new", pods: map[int]*corev1.Pod{0: mk(up, rev("old")), 1: mk(up, rev("old"))}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.v.now = t0
			got, wait := plan(tt.v)
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(action{})); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
			if wait != tt.wantWait {
				t.Errorf("wait = %v, want %v", wait, tt.wantWait)
			}
		})
	}
}

func TestComputeStatusRollsOverCurrentRevision(t *testing.T) {
	set := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Generation: 3}}
	set.Spec.Replicas = new(int32)
	*set.Spec.Replicas = 2
	set.Spec.UpdateStrategy.Type = appsv1.RollingUpdateStatefulSetStrategyType
	up := readyFor(time.Hour)
	tests := []struct {
		name        string
		pods        []*corev1.Pod
		wantCurrent string
		wantUpdated int32
	}{
		{"mid rollout", []*corev1.Pod{mk(up, rev("old")), mk(up, rev("new"))}, "old", 1},
		{"done", []*corev1.Pod{mk(up, rev("new")), mk(up, rev("new"))}, "new", 2},
		{"updated but not ready", []*corev1.Pod{mk(up, rev("new")), mk(rev("new"))}, "old", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := computeStatus(set, tt.pods, "old", "new", 0, t0)
			if got.CurrentRevision != tt.wantCurrent || got.UpdatedReplicas != tt.wantUpdated || got.ObservedGeneration != 3 {
				t.Errorf("status = %+v, want current %s, %d updated, generation 3", got, tt.wantCurrent, tt.wantUpdated)
			}
		})
	}
}
