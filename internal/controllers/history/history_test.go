package history

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
)

func TestDataRoundTripAndHash(t *testing.T) {
	tests := []struct{ name, image string }{{"one", "nginx:1"}, {"two", "nginx:2"}}
	hashes := sets.New[string]()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := &corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: tt.image}}},
			}
			data, err := Data(tmpl)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Template(&appsv1.ControllerRevision{Data: data})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tmpl, got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
			h := Hash(data.Raw, nil)
			if h != Hash(data.Raw, nil) {
				t.Error("hash is not stable")
			}
			one := int32(1)
			if h == Hash(data.Raw, &one) {
				t.Error("collision count does not change the hash")
			}
			hashes.Insert(h)
		})
	}
	if hashes.Len() != 2 {
		t.Errorf("different templates hash alike: %v", hashes.UnsortedList())
	}
}

func TestToPrune(t *testing.T) {
	revs := func(names ...string) []*appsv1.ControllerRevision {
		var out []*appsv1.ControllerRevision
		for i, n := range names {
			out = append(out, &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: n}, Revision: int64(i + 1)})
		}
		return out
	}
	tests := []struct {
		name  string
		live  []string
		limit int32
		want  []string
	}{
		{"within limit", []string{"e"}, 4, nil},
		{"oldest go first", []string{"e"}, 2, []string{"a", "b"}},
		{"live revisions are kept", []string{"a", "e"}, 1, []string{"b", "c"}},
		{"limit zero keeps only live", []string{"e"}, 0, []string{"a", "b", "c", "d"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, r := range ToPrune(revs("a", "b", "c", "d", "e"), sets.New(tt.live...), tt.limit) {
				got = append(got, r.Name)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("pruned (-want +got):\n%s", diff)
			}
		})
	}
}
