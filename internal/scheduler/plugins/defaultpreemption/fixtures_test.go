package defaultpreemption

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// cpuFit is a stand-in for the resources filter: a pod fits when the
// node's allocatable cpu covers what its pods and the pod request.
type cpuFit struct{}

const insufficientCPU = "Insufficient cpu"

func (cpuFit) Name() string { return "CPUFit" }

func (cpuFit) Filter(_ context.Context, _ *framework.CycleState, pod *corev1.Pod, ni *framework.NodeInfo) *framework.Status {
	if ni.Requested.MilliCPU+framework.PodRequests(pod, false).MilliCPU > ni.Allocatable.MilliCPU {
		return framework.NewStatus(framework.Unschedulable, insufficientCPU)
	}
	return nil
}

// epoch is the start time of the oldest test pods.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// podBuilder builds test pods fluently.
type podBuilder struct{ pod *corev1.Pod }

// makePod returns a pod in namespace default with priority prio asking
// for milliCPU, started at epoch.
func makePod(name string, prio int32, milliCPU int64) *podBuilder {
	return &podBuilder{pod: &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, UID: types.UID("uid-" + name)},
		Spec: corev1.PodSpec{
			Priority:      &prio,
			SchedulerName: corev1.DefaultSchedulerName,
			Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU: *resource.NewMilliQuantity(milliCPU, resource.DecimalSI),
			}}}},
		},
		Status: corev1.PodStatus{StartTime: &metav1.Time{Time: epoch}},
	}}
}

func (b *podBuilder) labels(kv ...string) *podBuilder {
	b.pod.Labels = map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		b.pod.Labels[kv[i]] = kv[i+1]
	}
	return b
}

func (b *podBuilder) startedAfter(d time.Duration) *podBuilder {
	b.pod.Status.StartTime = &metav1.Time{Time: epoch.Add(d)}
	return b
}

func (b *podBuilder) never() *podBuilder {
	never := corev1.PreemptNever
	b.pod.Spec.PreemptionPolicy = &never
	return b
}

func (b *podBuilder) nominatedTo(node string) *podBuilder {
	b.pod.Status.NominatedNodeName = node
	return b
}

// preempted marks the pod as terminating because the scheduler preempted
// it.
func (b *podBuilder) preempted() *podBuilder {
	b.pod.DeletionTimestamp = &metav1.Time{Time: epoch}
	b.pod.Status.Conditions = append(b.pod.Status.Conditions, corev1.PodCondition{
		Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: corev1.PodReasonPreemptionByScheduler,
	})
	return b
}

func (b *podBuilder) antiAffinity(key, app string) *podBuilder {
	b.pod.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}},
			TopologyKey:   key,
		}},
	}}
	return b
}

func (b *podBuilder) obj() *corev1.Pod { return b.pod }

// makeNode returns a NodeInfo for a node with milliCPU allocatable,
// holding pods (whose spec.nodeName it sets).
func makeNode(name string, milliCPU int64, pods ...*corev1.Pod) *framework.NodeInfo {
	for _, p := range pods {
		p.Spec.NodeName = name
	}
	ni := framework.NewNodeInfo(pods...)
	ni.SetNode(&corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{corev1.LabelHostname: name}},
		Status: corev1.NodeStatus{Allocatable: corev1.ResourceList{
			corev1.ResourceCPU: *resource.NewMilliQuantity(milliCPU, resource.DecimalSI),
		}},
	})
	return ni
}

// makePDB returns a budget (named after it) over app=app allowing allowed
// disruptions.
func makePDB(app string, allowed int32) *policyv1.PodDisruptionBudget {
	minAvailable := intstr.FromInt32(1)
	return &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: app},
		Spec: policyv1.PodDisruptionBudgetSpec{
			MinAvailable: &minAvailable,
			Selector:     &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}},
		},
		Status: policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: allowed},
	}
}
