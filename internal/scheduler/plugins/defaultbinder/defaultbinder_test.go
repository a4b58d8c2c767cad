package defaultbinder

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
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
