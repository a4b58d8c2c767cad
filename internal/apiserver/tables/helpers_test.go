package tables

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	networkingv1 "k8s.io/api/networking/v1"
	nodev1 "k8s.io/api/node/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	resourcev1 "k8s.io/api/resource/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// now is the time every test converts at.
var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// ago is the time d before now.
func ago(d time.Duration) metav1.Time { return metav1.NewTime(now.Add(-d)) }

// agoPtr is ago as a pointer.
func agoPtr(d time.Duration) *metav1.Time {
	t := ago(d)
	return &t
}

// om is the metadata of an object created five minutes ago.
func om(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: "default", CreationTimestamp: ago(5 * time.Minute)}
}

func ptr[T any](v T) *T { return &v }

// testScheme knows every kind with a printer, to build lists of them.
func testScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme, autoscalingv1.AddToScheme,
		autoscalingv2.AddToScheme, networkingv1.AddToScheme, discoveryv1.AddToScheme, rbacv1.AddToScheme,
		storagev1.AddToScheme, admissionregistrationv1.AddToScheme, flowcontrolv1.AddToScheme,
		policyv1.AddToScheme, schedulingv1.AddToScheme, coordinationv1.AddToScheme, nodev1.AddToScheme,
		certificatesv1.AddToScheme, resourcev1.AddToScheme, eventsv1.AddToScheme,
	} {
		if err := add(s); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// cellCase is one object and the cells of its row.
type cellCase struct {
	name string
	obj  runtime.Object
	want []any
}

// runCellCases converts each case's object alone, then all of them as one
// list of their kind, and compares the cells.
func runCellCases(t *testing.T, cases []cellCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			table, err := Convert(tc.obj, Options{}, now)
			if err != nil {
				t.Fatalf("Convert: %v", err)
			}
			if len(table.Rows) != 1 {
				t.Fatalf("got %d rows, want 1", len(table.Rows))
			}
			if got, cols := len(table.Rows[0].Cells), len(table.ColumnDefinitions); got != cols {
				t.Errorf("%d cells for %d columns", got, cols)
			}
			if diff := cmp.Diff(tc.want, table.Rows[0].Cells); diff != "" {
				t.Errorf("cells (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("list", func(t *testing.T) {
		list := newListOf(t, cases[0].obj)
		objs := make([]runtime.Object, 0, len(cases))
		want := make([][]any, 0, len(cases))
		for _, tc := range cases {
			objs = append(objs, tc.obj)
			want = append(want, tc.want)
		}
		if err := meta.SetList(list, objs); err != nil {
			t.Fatalf("SetList: %v", err)
		}
		table, err := Convert(list, Options{}, now)
		if err != nil {
			t.Fatalf("Convert: %v", err)
		}
		got := make([][]any, 0, len(table.Rows))
		for _, row := range table.Rows {
			got = append(got, row.Cells)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("list cells (-want +got):\n%s", diff)
		}
	})
}

// newListOf returns an empty list of obj's kind.
func newListOf(t *testing.T, obj runtime.Object) runtime.Object {
	t.Helper()
	s := testScheme(t)
	gvks, _, err := s.ObjectKinds(obj)
	if err != nil {
		t.Fatalf("kind of %T: %v", obj, err)
	}
	list, err := s.New(gvks[0].GroupVersion().WithKind(gvks[0].Kind + "List"))
	if err != nil {
		t.Fatalf("list of %s: %v", gvks[0], err)
	}
	return list
}
