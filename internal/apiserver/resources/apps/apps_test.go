package apps

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/apiserver/registry"
)

// summary reduces field errors to "<type> <path>", what tests compare.
func summary(errs field.ErrorList) []string {
	var out []string
	for _, e := range errs {
		out = append(out, fmt.Sprintf("%s %s", string(e.Type), e.Field))
	}
	return out
}

var withStatus = registry.DefaultStrategy{HasStatus: true}

func selector() *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
}

func template() corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx:1.27"}}},
	}
}

// defaultedTemplate is template() after pod template defaulting.
func defaultedTemplate() corev1.PodTemplateSpec {
	t := template()
	t.Spec = corev1.PodSpec{
		Containers: []corev1.Container{{
			Name: "web", Image: "nginx:1.27", ImagePullPolicy: corev1.PullIfNotPresent,
			TerminationMessagePath: "/dev/termination-log", TerminationMessagePolicy: corev1.TerminationMessageReadFile,
		}},
		RestartPolicy:                 corev1.RestartPolicyAlways,
		TerminationGracePeriodSeconds: ptr.To[int64](30),
		DNSPolicy:                     corev1.DNSClusterFirst,
		SecurityContext:               &corev1.PodSecurityContext{},
		SchedulerName:                 corev1.DefaultSchedulerName,
	}
	return t
}

func deployment() *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec:       appsv1.DeploymentSpec{Selector: selector(), Template: template()},
	}
}

func TestDeploymentDefaults(t *testing.T) {
	d := deployment()
	deploymentStrategy{withStatus}.Default(d)
	quarter := intstr.FromString("25%")
	want := appsv1.DeploymentSpec{
		Replicas: ptr.To[int32](1),
		Selector: selector(),
		Template: defaultedTemplate(),
		Strategy: appsv1.DeploymentStrategy{
			Type:          appsv1.RollingUpdateDeploymentStrategyType,
			RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: &quarter, MaxSurge: &quarter},
		},
		RevisionHistoryLimit:    ptr.To[int32](10),
		ProgressDeadlineSeconds: ptr.To[int32](600),
	}
	if diff := cmp.Diff(want, d.Spec); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	recreate := deployment()
	recreate.Spec.Strategy.Type = appsv1.RecreateDeploymentStrategyType
	deploymentStrategy{withStatus}.Default(recreate)
	if recreate.Spec.Strategy.RollingUpdate != nil {
		t.Errorf("Recreate got rollingUpdate %+v", recreate.Spec.Strategy.RollingUpdate)
	}
}

func TestDeploymentValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*appsv1.Deployment)
		want   []string
	}{
		{"valid", func(*appsv1.Deployment) {}, nil},
		{"no selector", func(d *appsv1.Deployment) { d.Spec.Selector = nil }, []string{"FieldValueRequired spec.selector"}},
		{"empty selector", func(d *appsv1.Deployment) { d.Spec.Selector = &metav1.LabelSelector{} }, []string{"FieldValueInvalid spec.selector"}},
		{"selector does not match", func(d *appsv1.Deployment) { d.Spec.Selector.MatchLabels["tier"] = "front" },
			[]string{"FieldValueInvalid spec.template.metadata.labels"}},
		{"negative replicas", func(d *appsv1.Deployment) { d.Spec.Replicas = ptr.To[int32](-1) }, []string{"FieldValueInvalid spec.replicas"}},
		{"restart OnFailure", func(d *appsv1.Deployment) { d.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure },
			[]string{"FieldValueNotSupported spec.template.spec.restartPolicy"}},
		{"no containers", func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers = nil },
			[]string{"FieldValueRequired spec.template.spec.containers"}},
		{"both zero", func(d *appsv1.Deployment) {
			d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxUnavailable: ptr.To(intstr.FromInt32(0)), MaxSurge: ptr.To(intstr.FromString("0%"))}
		}, []string{"FieldValueInvalid spec.strategy.rollingUpdate.maxUnavailable"}},
		{"over 100%", func(d *appsv1.Deployment) {
			d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxUnavailable: ptr.To(intstr.FromString("150%"))}
		}, []string{"FieldValueInvalid spec.strategy.rollingUpdate.maxUnavailable"}},
		{"Recreate with rollingUpdate", func(d *appsv1.Deployment) {
			d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{}}
		}, []string{"FieldValueForbidden spec.strategy.rollingUpdate"}},
		{"deadline below minReadySeconds", func(d *appsv1.Deployment) {
			d.Spec.MinReadySeconds, d.Spec.ProgressDeadlineSeconds = 30, ptr.To[int32](10)
		}, []string{"FieldValueInvalid spec.progressDeadlineSeconds"}},
	}
	s := deploymentStrategy{withStatus}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := deployment()
			tt.mutate(d)
			s.Default(d)
			if diff := cmp.Diff(tt.want, summary(s.Validate(context.Background(), d))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	old := deployment()
	s.Default(old)
	d := old.DeepCopy()
	d.Spec.Selector.MatchLabels["tier"] = "front"
	d.Spec.Template.Labels["tier"] = "front"
	if diff := cmp.Diff([]string{"FieldValueInvalid spec.selector"}, summary(s.ValidateUpdate(context.Background(), d, old))); diff != "" {
		t.Errorf("selector change (-want +got):\n%s", diff)
	}
	scaled := old.DeepCopy()
	scaled.Spec.Replicas = ptr.To[int32](5)
	scaled.Spec.Template.Spec.Containers[0].Image = "nginx:1.28"
	if errs := s.ValidateUpdate(context.Background(), scaled, old); len(errs) > 0 {
		t.Errorf("scale and image change: %v", errs)
	}
}

func TestReplicaSet(t *testing.T) {
	s := replicaSetStrategy{withStatus}
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: "default"},
		Spec:       appsv1.ReplicaSetSpec{Selector: selector(), Template: template()},
	}
	s.Default(rs)
	if *rs.Spec.Replicas != 1 || rs.Labels["app"] != "web" {
		t.Errorf("defaults: replicas %d, labels %v", *rs.Spec.Replicas, rs.Labels)
	}
	if errs := s.Validate(context.Background(), rs); len(errs) > 0 {
		t.Fatal(errs)
	}
	rs.Status.Replicas = 2
	_, fs, err := s.GetAttrs(rs)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(fields.Set{"metadata.name": "web-1", "metadata.namespace": "default", "status.replicas": "2"}, fs); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
}

func statefulSet() *appsv1.StatefulSet {
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "default"},
		Spec: appsv1.StatefulSetSpec{
			Selector: selector(), Template: template(), ServiceName: "db",
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "data"},
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
				},
			}},
		},
	}
}

func TestStatefulSetDefaults(t *testing.T) {
	ss := statefulSet()
	statefulSetStrategy{withStatus}.Default(ss)
	claim := statefulSet().Spec.VolumeClaimTemplates[0]
	claim.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"}
	claim.Spec.VolumeMode = ptr.To(corev1.PersistentVolumeFilesystem)
	claim.Status.Phase = corev1.ClaimPending
	want := appsv1.StatefulSetSpec{
		Replicas: ptr.To[int32](1), Selector: selector(), Template: defaultedTemplate(), ServiceName: "db",
		VolumeClaimTemplates: []corev1.PersistentVolumeClaim{claim},
		PodManagementPolicy:  appsv1.OrderedReadyPodManagement,
		UpdateStrategy: appsv1.StatefulSetUpdateStrategy{
			Type:          appsv1.RollingUpdateStatefulSetStrategyType,
			RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr.To[int32](0), MaxUnavailable: ptr.To(intstr.FromInt32(1))},
		},
		RevisionHistoryLimit: ptr.To[int32](10),
		PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
			WhenDeleted: appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
			WhenScaled:  appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
		},
	}
	if diff := cmp.Diff(want, ss.Spec); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestStatefulSetValidate(t *testing.T) {
	s := statefulSetStrategy{withStatus}
	ctx := context.Background()
	old := statefulSet()
	s.Default(old)
	if errs := s.Validate(ctx, old); len(errs) > 0 {
		t.Fatal(errs)
	}
	tests := []struct {
		name   string
		mutate func(*appsv1.StatefulSet)
		want   []string
	}{
		{"scale", func(ss *appsv1.StatefulSet) { ss.Spec.Replicas = ptr.To[int32](3) }, nil},
		{"new image", func(ss *appsv1.StatefulSet) { ss.Spec.Template.Spec.Containers[0].Image = "nginx:2" }, nil},
		{"partition", func(ss *appsv1.StatefulSet) { ss.Spec.UpdateStrategy.RollingUpdate.Partition = ptr.To[int32](2) }, nil},
		{"service name", func(ss *appsv1.StatefulSet) { ss.Spec.ServiceName = "other" }, []string{"FieldValueForbidden spec"}},
		{"pod management", func(ss *appsv1.StatefulSet) { ss.Spec.PodManagementPolicy = appsv1.ParallelPodManagement },
			[]string{"FieldValueForbidden spec"}},
		{"bad policy", func(ss *appsv1.StatefulSet) { ss.Spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted = "Keep" },
			[]string{"FieldValueNotSupported spec.persistentVolumeClaimRetentionPolicy.whenDeleted"}},
		{"claim without storage", func(ss *appsv1.StatefulSet) { ss.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests = nil },
			[]string{"FieldValueRequired spec.volumeClaimTemplates[0].spec.resources.requests[storage]", "FieldValueForbidden spec"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ss := old.DeepCopy()
			tt.mutate(ss)
			if diff := cmp.Diff(tt.want, summary(s.ValidateUpdate(ctx, ss, old))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDaemonSet(t *testing.T) {
	s := daemonSetStrategy{withStatus}
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "kube-system"},
		Spec:       appsv1.DaemonSetSpec{Selector: selector(), Template: template()},
	}
	s.Default(ds)
	want := appsv1.DaemonSetSpec{
		Selector: selector(), Template: defaultedTemplate(),
		UpdateStrategy: appsv1.DaemonSetUpdateStrategy{
			Type:          appsv1.RollingUpdateDaemonSetStrategyType,
			RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: ptr.To(intstr.FromInt32(1)), MaxSurge: ptr.To(intstr.FromInt32(0))},
		},
		RevisionHistoryLimit: ptr.To[int32](10),
	}
	if diff := cmp.Diff(want, ds.Spec); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if errs := s.Validate(context.Background(), ds); len(errs) > 0 {
		t.Fatal(errs)
	}
	bad := ds.DeepCopy()
	bad.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = ptr.To(intstr.FromInt32(0))
	if diff := cmp.Diff([]string{"FieldValueInvalid spec.updateStrategy.rollingUpdate.maxUnavailable"}, summary(s.Validate(context.Background(), bad))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestControllerRevision(t *testing.T) {
	s := controllerRevisionStrategy{}
	old := &appsv1.ControllerRevision{Revision: 1}
	old.Data.Raw = []byte(`{"a":1}`)
	cr := old.DeepCopy()
	cr.Revision = 2
	if errs := s.ValidateUpdate(context.Background(), cr, old); len(errs) > 0 {
		t.Errorf("revision bump: %v", errs)
	}
	cr.Data.Raw = []byte(`{"a":2}`)
	if diff := cmp.Diff([]string{"FieldValueInvalid data"}, summary(s.ValidateUpdate(context.Background(), cr, old))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestStrategies(t *testing.T) {
	if n := len(Strategies()); n != 5 {
		t.Errorf("%d strategies, want 5", n)
	}
}
