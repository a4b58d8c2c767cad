package defaultbinder

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	clienttesting "k8s.io/client-go/testing"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

func TestBind(t *testing.T) {
	for _, tt := range []struct {
		name    string
		failure error
		code    framework.Code
	}{
		{name: "bound"},
		{name: "API error", failure: errors.New("conflict"), code: framework.Error},
	} {
		t.Run(tt.name, func(t *testing.T) {
			client := fake.NewClientset()
			var got *corev1.Binding
			client.PrependReactor("create", "pods", func(action clienttesting.Action) (bool, runtime.Object, error) {
				create := action.(clienttesting.CreateAction)
				if create.GetSubresource() != "binding" {
					return false, nil, nil
				}
				got = create.GetObject().(*corev1.Binding)
				return true, nil, tt.failure
			})
			b := &DefaultBinder{client: client}
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p", UID: "u1"}}
			s := b.Bind(context.Background(), framework.NewCycleState(), pod, "node-1")
			if s.Code() != tt.code {
				t.Fatalf("status %v, want %v", s.Code(), tt.code)
			}
			want := &corev1.Binding{
				ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p", UID: "u1"},
				Target:     corev1.ObjectReference{Kind: "Node", Name: "node-1"},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("binding (-want +got):\n%s", diff)
			}
		})
	}
}

// TestBindOverREST binds through a real REST client: one POST to the pod's
// binding subresource, without query parameters, and the server's error
// status comes back as an error.
func TestBindOverREST(t *testing.T) {
	for _, tt := range []struct {
		name   string
		status int
		code   framework.Code
	}{
		{name: "bound", status: http.StatusCreated},
		{name: "conflict", status: http.StatusConflict, code: framework.Error},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got *corev1.Binding
			var requests []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests = append(requests, r.Method+" "+r.URL.String())
				got = &corev1.Binding{}
				if err := json.NewDecoder(r.Body).Decode(got); err != nil {
					t.Errorf("decode body: %v", err)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				st := metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Code: int32(tt.status)}
				if tt.status != http.StatusCreated {
					st.Status, st.Reason = metav1.StatusFailure, metav1.StatusReasonConflict
				}
				_ = json.NewEncoder(w).Encode(st)
			}))
			defer srv.Close()
			client, err := kubernetes.NewForConfig(&rest.Config{Host: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			b := &DefaultBinder{client: client, rest: client.CoreV1().RESTClient().(*rest.RESTClient)}
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p", UID: "u1"}}
			if s := b.Bind(context.Background(), framework.NewCycleState(), pod, "node-1"); s.Code() != tt.code {
				t.Fatalf("status %v, want %v", s.Code(), tt.code)
			}
			if want := []string{"POST /api/v1/namespaces/ns/pods/p/binding"}; !slices.Equal(requests, want) {
				t.Errorf("requests %q, want %q", requests, want)
			}
			if got == nil || got.Target.Name != "node-1" || got.UID != "u1" {
				t.Errorf("binding sent: %+v", got)
			}
		})
	}
}
