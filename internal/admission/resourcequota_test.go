package admission

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/tugcluster/tug/internal/quota/quotatest"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// quotaStore keeps quotas in memory with resourceVersion checks, as the
// registry store does; conflictOnce makes the next write lose a race.
type quotaStore struct {
	quotas       map[string]*corev1.ResourceQuota
	conflictOnce bool
	writes       int
}

func (s *quotaStore) plugin() ResourceQuota {
	return ResourceQuota{
		List: func(context.Context, string, bool) ([]corev1.ResourceQuota, error) {
			var out []corev1.ResourceQuota
			for _, q := range s.quotas {
				out = append(out, *q.DeepCopy())
			}
			return out, nil
		},
		UpdateStatus: func(_ context.Context, q *corev1.ResourceQuota) error {
			cur := s.quotas[q.Name]
			if s.conflictOnce {
				// Someone else charged one pod first.
				s.conflictOnce = false
				cur.Status.Used = addOne(cur.Status.Used, corev1.ResourcePods)
				cur.ResourceVersion = bump(cur.ResourceVersion)
			}
			if q.ResourceVersion != cur.ResourceVersion {
				return apierrors.NewConflict(schema.GroupResource{Resource: "resourcequotas"}, q.Name, nil)
			}
			s.writes++
			cur.Status = *q.Status.DeepCopy()
			cur.ResourceVersion = bump(cur.ResourceVersion)
			return nil
		},
	}
}

func bump(rv string) string {
	n, _ := strconv.Atoi(rv)
	return strconv.Itoa(n + 1)
}

func addOne(l corev1.ResourceList, name corev1.ResourceName) corev1.ResourceList {
	l = l.DeepCopy()
	v := l[name]
	v.Add(resource.MustParse("1"))
	l[name] = v
	return l
}

func newQuota(name string, hard, used corev1.ResourceList, scopes ...corev1.ResourceQuotaScope) *corev1.ResourceQuota {
	return &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name), ResourceVersion: "1"},
		Spec:       corev1.ResourceQuotaSpec{Hard: hard, Scopes: scopes},
		Status:     corev1.ResourceQuotaStatus{Hard: hard, Used: used},
	}
}

// podWith returns pod "p" with one container, "app".
func podWith(requests, limits corev1.ResourceList) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{
		Name: "app", Resources: corev1.ResourceRequirements{Requests: requests, Limits: limits}}}}}
}

func TestResourceQuotaAdmission(t *testing.T) {
	tests := []struct {
		name    string
		quotas  []*corev1.ResourceQuota
		obj     *corev1.Pod
		wantErr string
		// wantUsed is the used of quota "q" afterwards.
		wantUsed corev1.ResourceList
		dryRun   bool
	}{
		{name: "dry run checked, not charged", quotas: []*corev1.ResourceQuota{newQuota("q", quotatest.List("pods", "2"), quotatest.List("pods", "1"))},
			obj: podWith(nil, nil), dryRun: true, wantUsed: quotatest.List("pods", "1")},
		{name: "dry run over quota", quotas: []*corev1.ResourceQuota{newQuota("q", quotatest.List("pods", "1"), quotatest.List("pods", "1"))},
			obj: podWith(nil, nil), dryRun: true, wantUsed: quotatest.List("pods", "1"),
			wantErr: `pods "p" is forbidden: exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1`},
		{name: "charged", quotas: []*corev1.ResourceQuota{newQuota("q", quotatest.List("pods", "2", "requests.cpu", "1"), quotatest.List("pods", "1", "requests.cpu", "200m"))},
			obj: podWith(quotatest.List("cpu", "300m"), nil), wantUsed: quotatest.List("pods", "2", "requests.cpu", "500m")},
		{name: "over pods", quotas: []*corev1.ResourceQuota{newQuota("q", quotatest.List("pods", "2"), quotatest.List("pods", "2"))},
			obj:     podWith(nil, nil),
			wantErr: `pods "p" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2`, wantUsed: quotatest.List("pods", "2")},
		{name: "over two resources", quotas: []*corev1.ResourceQuota{newQuota("q", quotatest.List("pods", "1", "cpu", "1"), quotatest.List("pods", "1", "cpu", "500m"))},
			obj:      podWith(quotatest.List("cpu", "600m"), nil),
			wantErr:  `pods "p" is forbidden: exceeded quota: q, requested: cpu=600m,pods=1, used: cpu=500m,pods=1, limited: cpu=1,pods=1`,
			wantUsed: quotatest.List("pods", "1", "cpu", "500m")},
		{name: "missing limits", quotas: []*corev1.ResourceQuota{newQuota("q", quotatest.List("limits.cpu", "2", "limits.memory", "1Gi"), quotatest.List("limits.cpu", "0", "limits.memory", "0"))},
			obj:      podWith(quotatest.List("cpu", "1"), nil),
			wantErr:  `pods "p" is forbidden: failed quota: q: must specify limits.cpu for: app; limits.memory for: app`,
			wantUsed: quotatest.List("limits.cpu", "0", "limits.memory", "0")},
		{name: "limits stated", quotas: []*corev1.ResourceQuota{newQuota("q", quotatest.List("limits.cpu", "2", "limits.memory", "1Gi"), quotatest.List("limits.cpu", "0", "limits.memory", "0"))},
			obj: podWith(quotatest.List("cpu", "1"), quotatest.List("cpu", "1", "memory", "1Gi")), wantUsed: quotatest.List("limits.cpu", "1", "limits.memory", "1Gi")},
		{name: "status unknown", quotas: []*corev1.ResourceQuota{newQuota("q", quotatest.List("pods", "2", "cpu", "1"), quotatest.List("pods", "0"))},
			obj:      podWith(quotatest.List("cpu", "1"), nil),
			wantErr:  `pods "p" is forbidden: status unknown for quota: q, resources: cpu,pods`,
			wantUsed: quotatest.List("pods", "0")},
		{name: "out of scope", quotas: []*corev1.ResourceQuota{newQuota("q", quotatest.List("pods", "0"), quotatest.List("pods", "0"), corev1.ResourceQuotaScopeBestEffort)},
			obj: podWith(quotatest.List("memory", "1Gi"), nil), wantUsed: quotatest.List("pods", "0")},
		{name: "quota not yet seen by the controller", quotas: []*corev1.ResourceQuota{{ObjectMeta: metav1.ObjectMeta{Name: "q", ResourceVersion: "1"},
			Spec: corev1.ResourceQuotaSpec{Hard: quotatest.List("pods", "0")}}}, obj: podWith(nil, nil)},
		{name: "second quota refuses", quotas: []*corev1.ResourceQuota{newQuota("q", quotatest.List("pods", "5"), quotatest.List("pods", "0")),
			newQuota("r", quotatest.List("requests.memory", "1Gi"), quotatest.List("requests.memory", "1Gi"))},
			obj:      podWith(quotatest.List("memory", "1"), nil),
			wantErr:  `pods "p" is forbidden: exceeded quota: r, requested: requests.memory=1, used: requests.memory=1Gi, limited: requests.memory=1Gi`,
			wantUsed: quotatest.List("pods", "0")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := &quotaStore{quotas: map[string]*corev1.ResourceQuota{}}
			for _, q := range tt.quotas {
				store.quotas[q.Name] = q
			}
			err := store.plugin().Admit(context.Background(), &Attributes{Operation: Create, Resource: podsResource, Namespace: "ns", Object: tt.obj, DryRun: tt.dryRun})
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Admit: %v", err)
			case tt.wantErr != "" && (!apierrors.IsForbidden(err) || err.Error() != tt.wantErr):
				t.Fatalf("Admit = %v\nwant Forbidden %q", err, tt.wantErr)
			}
			if got := store.quotas["q"].Status.Used; !equalLists(got, tt.wantUsed) {
				t.Errorf("used = %v, want %v", got, tt.wantUsed)
			}
		})
	}
}

func equalLists(a, b corev1.ResourceList) bool {
	if len(a) != len(b) {
		return false
	}
	for name, v := range a {
		if w, ok := b[name]; !ok || v.Cmp(w) != 0 {
			return false
		}
	}
	return true
}

// TestResourceQuotaAdmissionRace: a charge that loses a race is evaluated
// again against the winner's usage, and refused if that now exceeds.
func TestResourceQuotaAdmissionRace(t *testing.T) {
	store := &quotaStore{quotas: map[string]*corev1.ResourceQuota{"q": newQuota("q", quotatest.List("pods", "3"), quotatest.List("pods", "1"))}, conflictOnce: true}
	plugin := store.plugin()
	attrs := &Attributes{Operation: Create, Resource: podsResource, Namespace: "ns", Object: podWith(nil, nil)}
	if err := plugin.Admit(context.Background(), attrs); err != nil {
		t.Fatal(err)
	}
	if used := store.quotas["q"].Status.Used; !equalLists(used, quotatest.List("pods", "3")) || store.writes != 1 {
		t.Fatalf("used = %v after %d writes, want pods=3 after 1", used, store.writes)
	}
	store.conflictOnce = true
	store.quotas["q"].Spec.Hard, store.quotas["q"].Status.Hard = quotatest.List("pods", "4"), quotatest.List("pods", "4")
	err := plugin.Admit(context.Background(), attrs)
	if !apierrors.IsForbidden(err) || err.Error() != `pods "p" is forbidden: exceeded quota: q, requested: pods=1, used: pods=4, limited: pods=4` {
		t.Fatalf("Admit = %v, want exceeded after losing the race", err)
	}
}

// TestResourceQuotaAdmissionUpdate: an update is charged only by what grew.
func TestResourceQuotaAdmissionUpdate(t *testing.T) {
	claim := func(size string) *corev1.PersistentVolumeClaim {
		return &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "c"}, Spec: corev1.PersistentVolumeClaimSpec{
			Resources: corev1.VolumeResourceRequirements{Requests: quotatest.List("storage", size)}}}
	}
	store := &quotaStore{quotas: map[string]*corev1.ResourceQuota{"q": newQuota("q",
		quotatest.List("persistentvolumeclaims", "1", "requests.storage", "5Gi"), quotatest.List("persistentvolumeclaims", "1", "requests.storage", "1Gi"))}}
	claims := corev1.SchemeGroupVersion.WithResource("persistentvolumeclaims")
	err := store.plugin().Admit(context.Background(), &Attributes{Operation: Update, Resource: claims, Namespace: "ns", Object: claim("3Gi"), Old: claim("1Gi")})
	if err != nil {
		t.Fatal(err)
	}
	if used := store.quotas["q"].Status.Used; !equalLists(used, quotatest.List("persistentvolumeclaims", "1", "requests.storage", "3Gi")) {
		t.Fatalf("used = %v, want the claim's growth only", used)
	}
	err = store.plugin().Admit(context.Background(), &Attributes{Operation: Update, Resource: claims, Namespace: "ns", Object: claim("6Gi"), Old: claim("3Gi")})
	if !apierrors.IsForbidden(err) {
		t.Fatalf("Admit = %v, want Forbidden", err)
	}
}

// TestResourceQuotaAdmissionResize: pods/resize is charged by what grew,
// and refused over the quota, as upstream does; other pod subresources
// are not evaluated.
func TestResourceQuotaAdmissionResize(t *testing.T) {
	store := &quotaStore{quotas: map[string]*corev1.ResourceQuota{"q": newQuota("q",
		quotatest.List("requests.cpu", "1"), quotatest.List("requests.cpu", "500m"))}}
	resize := func(from, to string) *Attributes {
		return &Attributes{Operation: Update, Resource: podsResource, Subresource: "resize", Namespace: "ns",
			Object: podWith(quotatest.List("cpu", to), nil), Old: podWith(quotatest.List("cpu", from), nil)}
	}
	if err := store.plugin().Admit(context.Background(), resize("500m", "800m")); err != nil {
		t.Fatal(err)
	}
	if used := store.quotas["q"].Status.Used; !equalLists(used, quotatest.List("requests.cpu", "800m")) {
		t.Fatalf("used = %v, want the resize's growth charged", used)
	}
	err := store.plugin().Admit(context.Background(), resize("800m", "1500m"))
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "exceeded quota: q, requested: requests.cpu=700m") {
		t.Fatalf("Admit = %v, want exceeded quota", err)
	}
	status := resize("800m", "1500m")
	status.Subresource = "status"
	if err := store.plugin().Admit(context.Background(), status); err != nil {
		t.Fatalf("a status write was evaluated: %v", err)
	}
}
