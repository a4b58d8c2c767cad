package admission

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestDefaultTolerationSeconds(t *testing.T) {
	seconds := func(s int64) *int64 { return &s }
	notReady := func(s int64) corev1.Toleration {
		return corev1.Toleration{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists,
			Effect: corev1.TaintEffectNoExecute, TolerationSeconds: seconds(s)}
	}
	unreachable := func(s int64) corev1.Toleration {
		return corev1.Toleration{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists,
			Effect: corev1.TaintEffectNoExecute, TolerationSeconds: seconds(s)}
	}
	other := corev1.Toleration{Key: "example.com/other", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}
	plugin := DefaultTolerationSeconds{NotReady: 300, Unreachable: 200}
	for _, tc := range []struct {
		name        string
		op          Operation
		resource    schema.GroupVersionResource
		subresource string
		tolerations []corev1.Toleration
		want        []corev1.Toleration
	}{{
		name: "no tolerations get both",
		want: []corev1.Toleration{notReady(300), unreachable(200)},
	}, {
		name:        "an unrelated toleration is kept and both are added",
		tolerations: []corev1.Toleration{other},
		want:        []corev1.Toleration{other, notReady(300), unreachable(200)},
	}, {
		name:        "own not-ready toleration is kept",
		tolerations: []corev1.Toleration{notReady(10)},
		want:        []corev1.Toleration{notReady(10), unreachable(200)},
	}, {
		name:        "own unreachable toleration without seconds is kept",
		tolerations: []corev1.Toleration{{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists}},
		want: []corev1.Toleration{{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists},
			notReady(300)},
	}, {
		name:        "a NoSchedule toleration does not count",
		tolerations: []corev1.Toleration{{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
		want: []corev1.Toleration{{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
			notReady(300), unreachable(200)},
	}, {
		name:        "tolerate everything",
		tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
		want:        []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
	}, {
		name:        "tolerate every NoExecute taint",
		tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}},
		want:        []corev1.Toleration{{Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}},
	}, {
		name:        "an Equal toleration of the key counts whatever its value",
		tolerations: []corev1.Toleration{{Key: corev1.TaintNodeNotReady, Value: "x", Effect: corev1.TaintEffectNoExecute}},
		want: []corev1.Toleration{{Key: corev1.TaintNodeNotReady, Value: "x", Effect: corev1.TaintEffectNoExecute},
			unreachable(200)},
	}, {
		name: "updates get both too",
		op:   Update,
		want: []corev1.Toleration{notReady(300), unreachable(200)},
	}, {
		name:        "updates keep the pod's own tolerations",
		op:          Update,
		tolerations: []corev1.Toleration{other, notReady(10), unreachable(20)},
		want:        []corev1.Toleration{other, notReady(10), unreachable(20)},
	}, {
		name:        "status updates are left alone",
		op:          Update,
		subresource: "status",
	}, {
		name:        "status writes are left alone",
		subresource: "status",
	}, {
		name:     "other resources are left alone",
		resource: corev1.SchemeGroupVersion.WithResource("podtemplates"),
	}} {
		t.Run(tc.name, func(t *testing.T) {
			a := &Attributes{Operation: Create, Resource: podsResource, Subresource: tc.subresource,
				Object: &corev1.Pod{Spec: corev1.PodSpec{Tolerations: tc.tolerations}}}
			if tc.op != "" {
				a.Operation = tc.op
			}
			if !tc.resource.Empty() {
				a.Resource = tc.resource
			}
			if err := plugin.Admit(context.Background(), a); err != nil {
				t.Fatal(err)
			}
			got := a.Object.(*corev1.Pod).Spec.Tolerations
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("tolerations (-want +got):\n%s", diff)
			}
		})
	}
}

// Each pod gets its own tolerationSeconds, so that changing one pod
// cannot change another.
func TestDefaultTolerationSecondsNotShared(t *testing.T) {
	plugin := DefaultTolerationSeconds{NotReady: 300, Unreachable: 300}
	pods := []*corev1.Pod{{}, {}}
	for _, pod := range pods {
		if err := plugin.Admit(context.Background(), &Attributes{Operation: Create, Resource: podsResource, Object: pod}); err != nil {
			t.Fatal(err)
		}
	}
	*pods[0].Spec.Tolerations[0].TolerationSeconds = 1
	if got := *pods[1].Spec.Tolerations[0].TolerationSeconds; got != 300 {
		t.Errorf("second pod's tolerationSeconds = %d after changing the first's, want 300", got)
	}
}
