package deployment

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func template(image string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: image}}},
	}
}

func TestTemplateHash(t *testing.T) {
	a, b := template("nginx:1"), template("nginx:2")
	h := templateHash(&a, nil)
	if h != templateHash(ptr.To(template("nginx:1")), nil) {
		t.Error("hash differs for equal templates")
	}
	if h == templateHash(&b, nil) {
		t.Error("hash equal for different templates")
	}
	if h == templateHash(&a, ptr.To[int32](1)) {
		t.Error("collision count does not change the hash")
	}
	if templateHash(&a, ptr.To[int32](1)) == templateHash(&a, ptr.To[int32](2)) {
		t.Error("different collision counts hash the same")
	}
	// Names look like upstream's: short, lowercase, no vowels that could
	// spell words, valid in a DNS label.
	if len(h) < 1 || len(h) > 10 || strings.ContainsAny(h, "aeiou013") || strings.ToLower(h) != h {
		t.Errorf("hash %q does not look like a pod-template-hash", h)
	}
}

func TestEqualIgnoreHash(t *testing.T) {
	withHash := template("nginx:1")
	withHash.Labels = withLabel(withHash.Labels, appsv1.DefaultDeploymentUniqueLabelKey, "abc")
	emptyAnnotations := template("nginx:1")
	emptyAnnotations.Annotations = map[string]string{}
	tests := []struct {
		name string
		a, b corev1.PodTemplateSpec
		want bool
	}{
		{"same", template("nginx:1"), template("nginx:1"), true},
		{"hash label ignored", template("nginx:1"), withHash, true},
		{"nil and empty maps are equal", template("nginx:1"), emptyAnnotations, true},
		{"image differs", template("nginx:1"), template("nginx:2"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := equalIgnoreHash(&tt.a, &tt.b); got != tt.want {
				t.Errorf("equalIgnoreHash = %v, want %v", got, tt.want)
			}
			if _, ok := tt.a.Labels[appsv1.DefaultDeploymentUniqueLabelKey]; ok {
				t.Error("equalIgnoreHash changed its argument")
			}
		})
	}
	if withHash.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != "abc" {
		t.Error("equalIgnoreHash removed the label from its argument")
	}
}
