package admission

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestServiceAccount(t *testing.T) {
	no := false
	accounts := map[string]*corev1.ServiceAccount{
		"default": {ObjectMeta: metav1.ObjectMeta{Name: "default"}},
		"quiet":   {ObjectMeta: metav1.ObjectMeta{Name: "quiet"}, AutomountServiceAccountToken: &no},
	}
	plugin := ServiceAccount{Get: func(_ context.Context, _, name string) (*corev1.ServiceAccount, error) {
		if sa, ok := accounts[name]; ok {
			return sa, nil
		}
		return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "serviceaccounts"}, name)
	}}
	for _, tc := range []struct {
		name      string
		account   string
		automount *bool
		wantSA    string
		mounted   bool
	}{
		{"defaults to default", "", nil, "default", true},
		{"account opts out", "quiet", nil, "quiet", false},
		{"pod opts out", "", &no, "default", false},
		{"missing account still mounts", "ghost", nil, "ghost", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: corev1.PodSpec{
				ServiceAccountName: tc.account, AutomountServiceAccountToken: tc.automount,
				Containers: []corev1.Container{{Name: "c"}},
			}}
			if err := plugin.Admit(context.Background(), &Attributes{Operation: Create, Resource: podsResource, Namespace: "n", Object: pod}); err != nil {
				t.Fatal(err)
			}
			if pod.Spec.ServiceAccountName != tc.wantSA {
				t.Errorf("serviceAccountName %q, want %q", pod.Spec.ServiceAccountName, tc.wantSA)
			}
			mounted := len(pod.Spec.Volumes) == 1 && strings.HasPrefix(pod.Spec.Volumes[0].Name, tokenVolumePrefix) &&
				len(pod.Spec.Containers[0].VolumeMounts) == 1 && pod.Spec.Containers[0].VolumeMounts[0].MountPath == TokenMountPath
			if mounted != tc.mounted {
				t.Errorf("token mounted = %v, want %v: %+v", mounted, tc.mounted, pod.Spec)
			}
		})
	}
}

func TestTokenVolumeNameIsTheAccountsUnlessTaken(t *testing.T) {
	pod := func(account string, volumes ...string) *corev1.Pod {
		p := &corev1.Pod{Spec: corev1.PodSpec{ServiceAccountName: account}}
		for _, v := range volumes {
			p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: v})
		}
		return p
	}
	web := tokenVolumeName(pod("web"))
	if !strings.HasPrefix(web, tokenVolumePrefix) || len(web) != len(tokenVolumePrefix)+5 {
		t.Fatalf("name %q", web)
	}
	if again := tokenVolumeName(pod("web", "config")); again != web {
		t.Errorf("two pods of account web: %q and %q", web, again)
	}
	if other := tokenVolumeName(pod("db")); other == web {
		t.Errorf("accounts web and db both get %q", web)
	}
	if taken := tokenVolumeName(pod("web", web)); taken == web || !strings.HasPrefix(taken, tokenVolumePrefix) {
		t.Errorf("with %q taken: %q", web, taken)
	}
}
