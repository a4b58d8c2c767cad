package interpodaffinity

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tugcluster/tug/internal/scheduler/framework"
	"github.com/tugcluster/tug/internal/scheduler/framework/frameworktest"
)

// scoreAll runs PreScore, Score and NormalizeScore over nodes; nil means
// PreScore skipped.
func scoreAll(t *testing.T, pl *InterPodAffinity, nodes []*framework.NodeInfo, pod *corev1.Pod) (raw, normalized map[string]int64) {
	t.Helper()
	rawScores, normalizedScores, st := frameworktest.ScoreNodes(t, pl, pod, nodes)
	if st.IsSkip() {
		return nil, nil
	}
	if !st.IsSuccess() {
		t.Fatalf("PreScore: %v", st.Message())
	}
	return frameworktest.ScoresByName(rawScores), frameworktest.ScoresByName(normalizedScores)
}

func TestScore(t *testing.T) {
	db := makePod("default", "db", "app", "db").Obj()
	web := makePod("default", "web", "app", "web").Obj()
	tests := []struct {
		name           string
		pod            *corev1.Pod
		pods           map[string][]*corev1.Pod
		namespaces     []runtime.Object
		wantRaw        map[string]int64
		wantNormalized map[string]int64
	}{
		{
			name: "nothing to score",
			pod:  makePod("default", "p", "app", "web").Obj(),
			pods: map[string][]*corev1.Pod{"n1": {db}},
		},
		{
			name: "preferred affinity and anti-affinity of the pod",
			pod: makePod("default", "p").
				PreferredAffinity(5, term(zone, "db")).
				PreferredAntiAffinity(3, term(host, "web")).Obj(),
			pods:           map[string][]*corev1.Pod{"n1": {db}, "n2": {web}},
			wantRaw:        map[string]int64{"n1": 5, "n2": 2, "n3": 0, "n4": 0},
			wantNormalized: map[string]int64{"n1": 100, "n2": 40, "n3": 0, "n4": 0},
		},
		{
			name: "anti-affinity only: avoided node lowest",
			pod: makePod("default", "p").
				PreferredAntiAffinity(7, term(zone, "web")).Obj(),
			pods:           map[string][]*corev1.Pod{"n3": {web}},
			wantRaw:        map[string]int64{"n1": 0, "n2": 0, "n3": -7, "n4": 0},
			wantNormalized: map[string]int64{"n1": 100, "n2": 100, "n3": 0, "n4": 100},
		},
		{
			name: "existing pods' terms apply both ways, required affinity with weight 1",
			pod:  makePod("default", "p", "app", "web").Obj(),
			pods: map[string][]*corev1.Pod{
				"n1": {makePod("default", "fan", "app", "fan").PreferredAffinity(10, term(zone, "web")).RequiredAffinity(term(zone, "web")).Obj()},
				"n3": {makePod("default", "hater", "app", "hater").PreferredAntiAffinity(4, term(host, "web")).Obj()},
			},
			wantRaw:        map[string]int64{"n1": 11, "n2": 11, "n3": -4, "n4": 0},
			wantNormalized: map[string]int64{"n1": 100, "n2": 100, "n3": 0, "n4": 26},
		},
		{
			name: "preferred term with a namespace selector",
			pod: makePod("default", "p").
				PreferredAffinity(2, term(host, "db", func(t *corev1.PodAffinityTerm) {
					t.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"team": "a"}}
				})).Obj(),
			pods: map[string][]*corev1.Pod{
				"n1": {db},
				"n2": {makePod("team-a", "db", "app", "db").Obj()},
			},
			namespaces:     []runtime.Object{namespace("default", nil), namespace("team-a", map[string]string{"team": "a"})},
			wantRaw:        map[string]int64{"n1": 0, "n2": 2, "n3": 0, "n4": 0},
			wantNormalized: map[string]int64{"n1": 0, "n2": 100, "n3": 0, "n4": 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nodes := cluster(tt.pods)
			pl := newPlugin(t, nodes, tt.namespaces...)
			raw, normalized := scoreAll(t, pl, nodes, tt.pod)
			if diff := cmp.Diff(tt.wantRaw, raw); diff != "" {
				t.Errorf("raw scores (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantNormalized, normalized); diff != "" {
				t.Errorf("normalized scores (-want +got):\n%s", diff)
			}
		})
	}
}
