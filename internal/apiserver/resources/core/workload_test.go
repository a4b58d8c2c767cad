package core

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/apiserver/registry"
)

func claim() *corev1.PersistentVolumeClaim {
	return &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "data", Namespace: "default"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: quantities("storage", "1Gi")},
		},
	}
}

func TestPVC(t *testing.T) {
	ctx := context.Background()
	s := pvcStrategy{registry.DefaultStrategy{HasStatus: true}}
	pvc := claim()
	s.PrepareForCreate(ctx, pvc)
	s.Default(pvc)
	if *pvc.Spec.VolumeMode != corev1.PersistentVolumeFilesystem || pvc.Status.Phase != corev1.ClaimPending {
		t.Errorf("defaults: %+v %+v", pvc.Spec, pvc.Status)
	}
	invalid := claim()
	invalid.Spec.AccessModes = nil
	invalid.Spec.Resources.Requests = nil
	s.Default(invalid)
	want := []string{"FieldValueRequired spec.accessModes", "FieldValueRequired spec.resources.requests[storage]"}
	if diff := cmp.Diff(want, summary(s.Validate(ctx, invalid))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}

	bound := pvc.DeepCopy()
	bound.Status.Phase = corev1.ClaimBound
	tests := []struct {
		name   string
		old    *corev1.PersistentVolumeClaim
		mutate func(*corev1.PersistentVolumeClaim)
		want   []string
	}{
		{"bind", pvc, func(c *corev1.PersistentVolumeClaim) { c.Spec.VolumeName = "pv-1" }, nil},
		{"grow bound", bound, func(c *corev1.PersistentVolumeClaim) { c.Spec.Resources.Requests = quantities("storage", "2Gi") }, nil},
		{"grow pending", pvc, func(c *corev1.PersistentVolumeClaim) { c.Spec.Resources.Requests = quantities("storage", "2Gi") },
			[]string{"FieldValueForbidden spec"}},
		{"shrink bound", bound, func(c *corev1.PersistentVolumeClaim) { c.Spec.Resources.Requests = quantities("storage", "500Mi") },
			[]string{"FieldValueForbidden spec.resources.requests[storage]"}},
		{"access modes", pvc, func(c *corev1.PersistentVolumeClaim) {
			c.Spec.AccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}
		}, []string{"FieldValueForbidden spec"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.old.DeepCopy()
			tt.mutate(c)
			if diff := cmp.Diff(tt.want, summary(s.ValidateUpdate(ctx, c, tt.old))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestReplicationController(t *testing.T) {
	ctx := context.Background()
	s := rcStrategy{registry.DefaultStrategy{HasStatus: true}}
	rc := &corev1.ReplicationController{
		ObjectMeta: metav1.ObjectMeta{Name: "rc", Namespace: "default"},
		Spec: corev1.ReplicationControllerSpec{Template: &corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
			Spec:       minimalPod().Spec,
		}},
	}
	s.Default(rc)
	if diff := cmp.Diff(map[string]string{"app": "web"}, rc.Spec.Selector); diff != "" {
		t.Errorf("selector (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"app": "web"}, rc.Labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	if *rc.Spec.Replicas != 1 || rc.Spec.Template.Spec.DNSPolicy != corev1.DNSClusterFirst {
		t.Errorf("defaults: replicas %d, dnsPolicy %q", *rc.Spec.Replicas, rc.Spec.Template.Spec.DNSPolicy)
	}
	if errs := s.Validate(ctx, rc); len(errs) > 0 {
		t.Fatal(errs)
	}
	tests := []struct {
		name   string
		mutate func(*corev1.ReplicationController)
		want   []string
	}{
		{"selector mismatch", func(rc *corev1.ReplicationController) { rc.Spec.Selector = map[string]string{"app": "db"} },
			[]string{"FieldValueInvalid spec.template.metadata.labels"}},
		{"negative replicas", func(rc *corev1.ReplicationController) { rc.Spec.Replicas = ptr.To[int32](-1) },
			[]string{"FieldValueInvalid spec.replicas"}},
		{"restart Never", func(rc *corev1.ReplicationController) {
			rc.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever
		},
			[]string{"FieldValueNotSupported spec.template.spec.restartPolicy"}},
		{"no template", func(rc *corev1.ReplicationController) { rc.Spec.Template = nil },
			[]string{"FieldValueRequired spec.template"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := rc.DeepCopy()
			tt.mutate(c)
			if diff := cmp.Diff(tt.want, summary(s.Validate(ctx, c))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	rc.Status.Replicas = 3
	if diff := cmp.Diff(fields.Set{"metadata.name": "rc", "metadata.namespace": "default", "status.replicas": "3"}, fieldsOf(t, s, rc)); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
}

func TestLimitRange(t *testing.T) {
	s := limitRangeStrategy{}
	lr := &corev1.LimitRange{Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
		Type: corev1.LimitTypeContainer,
		Max:  quantities("cpu", "2", "memory", "1Gi"),
		Min:  quantities("cpu", "100m", "ephemeral-storage", "1Gi"),
	}}}}
	s.Default(lr)
	want := corev1.LimitRangeItem{
		Type:           corev1.LimitTypeContainer,
		Max:            quantities("cpu", "2", "memory", "1Gi"),
		Min:            quantities("cpu", "100m", "ephemeral-storage", "1Gi"),
		Default:        quantities("cpu", "2", "memory", "1Gi"),
		DefaultRequest: quantities("cpu", "2", "memory", "1Gi", "ephemeral-storage", "1Gi"),
	}
	if diff := cmp.Diff(want, lr.Spec.Limits[0]); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if errs := s.Validate(context.Background(), lr); len(errs) > 0 {
		t.Errorf("defaulted limit range invalid: %v", errs)
	}
	bad := &corev1.LimitRange{Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
		Type: corev1.LimitTypePod, Min: quantities("cpu", "2"), Max: quantities("cpu", "1"), Default: quantities("cpu", "1"),
	}}}}
	wantErrs := []string{"FieldValueForbidden spec.limits[0].default", "FieldValueInvalid spec.limits[0].min[cpu]", "FieldValueInvalid spec.limits[0].min[cpu]"}
	if diff := cmp.Diff(wantErrs, summary(s.Validate(context.Background(), bad))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestResourceQuota(t *testing.T) {
	q := &corev1.ResourceQuota{Spec: corev1.ResourceQuotaSpec{
		Hard:   quantities("pods", "10", "cpu", "-1"),
		Scopes: []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeBestEffort, "Sometimes"},
	}}
	want := []string{"FieldValueInvalid spec.hard[cpu]", "FieldValueNotSupported spec.scopes[1]"}
	if diff := cmp.Diff(want, summary(quotaStrategy{}.Validate(context.Background(), q))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestPodTemplate(t *testing.T) {
	s := podTemplateStrategy{}
	pt := &corev1.PodTemplate{Template: corev1.PodTemplateSpec{Spec: minimalPod().Spec}}
	s.Default(pt)
	if pt.Template.Spec.RestartPolicy != corev1.RestartPolicyAlways || pt.Template.Spec.EnableServiceLinks != nil {
		t.Errorf("template defaults: %+v", pt.Template.Spec)
	}
	pt.Template.Spec.Containers = nil
	if diff := cmp.Diff([]string{"FieldValueRequired template.spec.containers"}, summary(s.Validate(context.Background(), pt))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
