package integration

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tugcluster/tug/internal/server"
	"github.com/tugcluster/tug/internal/testutil"
)

// TestPodResize: pods/resize changes container resources and nothing
// else, with upstream's rules, while the main endpoint keeps refusing
// resource changes; discovery lists the subresource.
func TestPodResize(t *testing.T) {
	s := testutil.StartServer(t, func(o *server.Options) { o.DisableScheduler = true })
	ctx := context.Background()
	pods := s.Client.CoreV1().Pods("default")
	rl := func(kv ...string) corev1.ResourceList {
		out := corev1.ResourceList{}
		for i := 0; i < len(kv); i += 2 {
			out[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
		}
		return out
	}
	pod, err := pods.Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "resize", Labels: map[string]string{"a": "b"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "c1", Image: "busybox", Resources: corev1.ResourceRequirements{
				Requests: rl("cpu", "20m", "memory", "35Mi", "ephemeral-storage", "1Gi"), Limits: rl("cpu", "30m", "memory", "45Mi"),
			}},
			{Name: "c2", Image: "busybox", Resources: corev1.ResourceRequirements{Requests: rl("memory", "35Mi")}},
			{Name: "c3", Image: "busybox", Resources: corev1.ResourceRequirements{Requests: rl("cpu", "10m")}},
		}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("discovery", func(t *testing.T) {
		list, err := s.Client.Discovery().ServerResourcesForGroupVersion("v1")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range list.APIResources {
			if r.Name == "pods/resize" {
				return
			}
		}
		t.Error("pods/resize missing from discovery")
	})

	t.Run("main endpoint refuses", func(t *testing.T) {
		cur, err := pods.Get(ctx, "resize", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cur.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU] = resource.MustParse("25m")
		if _, err := pods.Update(ctx, cur, metav1.UpdateOptions{}); !apierrors.IsInvalid(err) {
			t.Fatalf("update of resources through pods: %v, want Invalid", err)
		}
	})

	t.Run("patch", func(t *testing.T) {
		patch := `{"metadata":{"labels":{"a":"changed"}},"spec":{"containers":[` +
			`{"name":"c1","image":"ignored","resources":{"requests":{"cpu":"25m"},"limits":{"cpu":"35m"}}},` +
			`{"name":"c2","resources":{"limits":{"memory":"50Mi"}}}]}}`
		got, err := pods.Patch(ctx, "resize", types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}, "resize")
		if err != nil {
			t.Fatal(err)
		}
		c1, c2 := got.Spec.Containers[0], got.Spec.Containers[1]
		if q := c1.Resources.Requests[corev1.ResourceCPU]; q.String() != "25m" {
			t.Errorf("c1 cpu request %s, want 25m", q.String())
		}
		if q := c2.Resources.Limits[corev1.ResourceMemory]; q.String() != "50Mi" {
			t.Errorf("c2 memory limit %s, want 50Mi", q.String())
		}
		if c1.Image != "busybox" || got.Labels["a"] != "b" {
			t.Errorf("image %q label %q: pods/resize changed more than resources", c1.Image, got.Labels["a"])
		}
		if got.Generation != pod.Generation+1 {
			t.Errorf("generation %d, want %d", got.Generation, pod.Generation+1)
		}
		if got.Status.QOSClass != corev1.PodQOSBurstable {
			t.Errorf("QoS class %q, want Burstable", got.Status.QOSClass)
		}
	})

	t.Run("replace and read", func(t *testing.T) {
		cur, err := pods.Get(ctx, "resize", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cur.Spec.Containers[1].Resources.Requests[corev1.ResourceMemory] = resource.MustParse("40Mi")
		if _, err := pods.UpdateResize(ctx, "resize", cur, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		var viaResize corev1.Pod
		if err := s.Client.CoreV1().RESTClient().Get().Namespace("default").Resource("pods").Name("resize").
			SubResource("resize").Do(ctx).Into(&viaResize); err != nil {
			t.Fatal(err)
		}
		if q := viaResize.Spec.Containers[1].Resources.Requests[corev1.ResourceMemory]; q.String() != "40Mi" {
			t.Errorf("memory request read through pods/resize %s, want 40Mi", q.String())
		}
		if viaResize.Generation != cur.Generation+1 {
			t.Errorf("generation %d, want %d", viaResize.Generation, cur.Generation+1)
		}
	})

	for name, tc := range map[string]struct{ patch, message string }{
		"burstable to guaranteed": {
			`{"spec":{"containers":[{"name":"c1","resources":{"requests":{"cpu":"35m","memory":"45Mi"}}},` +
				`{"name":"c2","resources":{"requests":{"cpu":"10m","memory":"50Mi"},"limits":{"cpu":"10m"}}},` +
				`{"name":"c3","resources":{"requests":{"memory":"10Mi"},"limits":{"cpu":"10m","memory":"10Mi"}}}]}}`,
			"Pod QOS Class may not change as a result of resizing",
		},
		"limits removed": {
			`{"spec":{"containers":[{"name":"c1","resources":{"limits":{"cpu":null}}}]}}`, "resource limits cannot be removed",
		},
		"requests removed": {
			`{"spec":{"containers":[{"name":"c3","resources":{"requests":{"cpu":null}}}]}}`, "resource requests cannot be removed",
		},
		"other resources": {
			`{"spec":{"containers":[{"name":"c1","resources":{"requests":{"ephemeral-storage":"2Gi"}}}]}}`, "only cpu and memory resources are mutable",
		},
		"reordered": {
			`{"spec":{"$setElementOrder/containers":[{"name":"c2"},{"name":"c1"},{"name":"c3"}]}}`, "containers may not be renamed or reordered on resize",
		},
		"bad policy": {
			`{"spec":{"containers":[{"name":"c1","resizePolicy":[{"resourceName":"cpu","restartPolicy":"Sometimes"}]}]}}`, "resizePolicy",
		},
	} {
		t.Run(name, func(t *testing.T) {
			before, err := pods.Get(ctx, "resize", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = pods.Patch(ctx, "resize", types.StrategicMergePatchType, []byte(tc.patch), metav1.PatchOptions{}, "resize")
			if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tc.message) {
				t.Fatalf("patch: %v, want Invalid containing %q", err, tc.message)
			}
			after, err := pods.Get(ctx, "resize", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if after.ResourceVersion != before.ResourceVersion {
				t.Error("a refused resize changed the pod")
			}
		})
	}
}
