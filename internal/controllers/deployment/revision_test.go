package deployment

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// rsOpt changes a test ReplicaSet.
type rsOpt func(*appsv1.ReplicaSet)

func testRS(name string, replicas int32, opts ...rsOpt) *appsv1.ReplicaSet {
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(t0), Annotations: map[string]string{}},
		Spec:       appsv1.ReplicaSetSpec{Replicas: ptr.To(replicas), Template: template("nginx:1")},
	}
	for _, o := range opts {
		o(rs)
	}
	return rs
}

func rev(r string) rsOpt {
	return func(rs *appsv1.ReplicaSet) { rs.Annotations[revisionAnnotation] = r }
}

func age(d time.Duration) rsOpt {
	return func(rs *appsv1.ReplicaSet) { rs.CreationTimestamp = metav1.NewTime(t0.Add(d)) }
}

func image(i string) rsOpt { return func(rs *appsv1.ReplicaSet) { rs.Spec.Template = template(i) } }

func avail(n int32) rsOpt {
	return func(rs *appsv1.ReplicaSet) { rs.Status.AvailableReplicas, rs.Status.Replicas = n, n }
}

func annotated(desiredReplicas, maxReplicas int32) rsOpt {
	return func(rs *appsv1.ReplicaSet) { setReplicasAnnotations(rs, desiredReplicas, maxReplicas) }
}

func rsNames(rss []*appsv1.ReplicaSet) []string {
	var out []string
	for _, rs := range rss {
		out = append(out, rs.Name)
	}
	return out
}

func TestFindNewReplicaSet(t *testing.T) {
	d := &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Template: template("nginx:2")}}
	tests := []struct {
		name    string
		rss     []*appsv1.ReplicaSet
		wantNew string
		wantOld []string
	}{
		{"none matches", []*appsv1.ReplicaSet{testRS("a", 1)}, "", []string{"a"}},
		{"one matches", []*appsv1.ReplicaSet{testRS("a", 1), testRS("b", 1, image("nginx:2"))}, "b", []string{"a"}},
		{
			"oldest of several matches",
			[]*appsv1.ReplicaSet{testRS("young", 1, image("nginx:2"), age(time.Hour)), testRS("old", 1, image("nginx:2"))},
			"old", []string{"young"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			newRS, old := findNewReplicaSet(d, tt.rss)
			got := ""
			if newRS != nil {
				got = newRS.Name
			}
			if got != tt.wantNew {
				t.Errorf("new = %q, want %q", got, tt.wantNew)
			}
			if diff := cmp.Diff(tt.wantOld, rsNames(old)); diff != "" {
				t.Errorf("old (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMaxRevision(t *testing.T) {
	rss := []*appsv1.ReplicaSet{testRS("a", 0, rev("3")), testRS("b", 0, rev("12")), testRS("c", 0), testRS("d", 0, rev("x"))}
	if got := maxRevision(rss); got != 12 {
		t.Errorf("maxRevision = %d, want 12", got)
	}
	if got := maxRevision(nil); got != 0 {
		t.Errorf("maxRevision(nil) = %d, want 0", got)
	}
}

func TestSetNewRSAnnotations(t *testing.T) {
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{
		"kubernetes.io/change-cause": "set image", lastAppliedAnnotation: "{}", revisionAnnotation: "2",
	}}}
	tests := []struct {
		name        string
		annotations map[string]string
		next        int64
		want        map[string]string
		changed     bool
	}{
		{
			name: "fresh", annotations: map[string]string{}, next: 1, changed: true,
			want: map[string]string{"kubernetes.io/change-cause": "set image", revisionAnnotation: "1"},
		},
		{
			name: "rolled back to: history remembers the old revisions", next: 5, changed: true,
			annotations: map[string]string{"kubernetes.io/change-cause": "set image", revisionAnnotation: "3", revisionHistoryAnnotation: "1"},
			want: map[string]string{
				"kubernetes.io/change-cause": "set image", revisionAnnotation: "5", revisionHistoryAnnotation: "1,3",
			},
		},
		{
			name: "up to date", next: 4,
			annotations: map[string]string{"kubernetes.io/change-cause": "set image", revisionAnnotation: "4"},
			want:        map[string]string{"kubernetes.io/change-cause": "set image", revisionAnnotation: "4"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Annotations: tt.annotations}}
			changed := setNewRSAnnotations(d, rs, tt.next)
			if changed != tt.changed {
				t.Errorf("changed = %v, want %v", changed, tt.changed)
			}
			if diff := cmp.Diff(tt.want, rs.Annotations); diff != "" {
				t.Errorf("annotations (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHistoryToDelete(t *testing.T) {
	d := &appsv1.Deployment{Spec: appsv1.DeploymentSpec{RevisionHistoryLimit: ptr.To[int32](1)}}
	old := []*appsv1.ReplicaSet{
		testRS("r3", 0, rev("3")),
		testRS("r1", 0, rev("1")),
		testRS("r2-busy", 1, rev("2")),
		testRS("r4", 0, rev("4")),
	}
	got := rsNames(historyToDelete(d, old))
	// Three over the limit: r1, r2-busy (kept, it has a pod) and r3.
	if diff := cmp.Diff([]string{"r1", "r3"}, got); diff != "" {
		t.Errorf("historyToDelete (-want +got):\n%s", diff)
	}
	d.Spec.RevisionHistoryLimit = ptr.To[int32](10)
	if got := historyToDelete(d, old); len(got) != 0 {
		t.Errorf("within the limit, deleted %v", rsNames(got))
	}
}
