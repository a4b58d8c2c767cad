package endpoints

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/applyconfigurations"
	clientscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/structured-merge-diff/v6/typed"
)

// TestCompareFieldsMatchesStructuredMergeDiff compares random pairs of
// pods, nodes and Deployments, differing in their status or spec, with
// compareFields and with structured-merge-diff's Compare of the whole
// objects, and expects the same added, modified and removed fields
// whenever compareFields does not give up; it must give up rarely on
// these kinds.
func TestCompareFieldsMatchesStructuredMergeDiff(t *testing.T) {
	converter := newTrustedTypeConverter(applyconfigurations.NewTypeConverter(clientscheme.Scheme))
	rng := rand.New(rand.NewPCG(3, 4))
	compared, gaveUp := 0, 0
	check := func(name string, live, obj runtime.Object) {
		t.Helper()
		names, ok := changedTopLevel(reflect.ValueOf(live).Elem(), reflect.ValueOf(obj).Elem())
		if !ok {
			return // nothing changed
		}
		ts, err := converter.schemaOf(live.GetObjectKind().GroupVersionKind(), live)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := compareFields(ts.schema, ts.typeRef, reflect.ValueOf(live).Elem(), reflect.ValueOf(obj).Elem(), names)
		if !ok {
			gaveUp++
			return
		}
		compared++
		lt, err := converter.ObjectToTyped(live, typed.AllowDuplicates)
		if err != nil {
			t.Fatal(err)
		}
		ot, err := converter.ObjectToTyped(obj, typed.AllowDuplicates)
		if err != nil {
			t.Fatal(err)
		}
		want, err := lt.Compare(ot)
		if err != nil {
			t.Fatalf("%s: structured-merge-diff: %v", name, err)
		}
		for _, c := range []struct {
			what      string
			got, want interface{ String() string }
		}{{"added", got.Added, want.Added}, {"modified", got.Modified, want.Modified}, {"removed", got.Removed, want.Removed}} {
			if c.got.String() != c.want.String() {
				t.Fatalf("%s: %s fields differ\ncompareFields:         %s\nstructured-merge-diff: %s", name, c.what, c.got, c.want)
			}
		}
	}

	pod := testPod()
	pod.Spec.Containers[0].Env = nil // repeated names: structured-merge-diff gives up too
	pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: "sidecar", Image: "busybox"})
	node := &corev1.Node{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Node"}, ObjectMeta: metav1.ObjectMeta{Name: "sim-0001"}}
	deployment := &appsv1.Deployment{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](3), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}}, Spec: pod.Spec}}}
	for i := range 3000 {
		p := pod.DeepCopy()
		for range rng.IntN(4) {
			changeStatus(rng, &p.Status)
		}
		q := p.DeepCopy()
		for range 1 + rng.IntN(3) {
			changeStatus(rng, &q.Status)
		}
		if rng.IntN(2) == 0 {
			changePodSpec(rng, &p.Spec)
		}
		q.Spec = *p.Spec.DeepCopy()
		if rng.IntN(3) == 0 {
			changePodSpec(rng, &q.Spec)
		}
		check(fmt.Sprintf("pod %d", i), p, q)

		n, m := node.DeepCopy(), node.DeepCopy()
		changeNodeStatus(rng, &n.Status)
		m.Status = *n.Status.DeepCopy()
		for range 1 + rng.IntN(3) {
			changeNodeStatus(rng, &m.Status)
		}
		check(fmt.Sprintf("node %d", i), n, m)

		d, e := deployment.DeepCopy(), deployment.DeepCopy()
		e.Spec.Replicas = ptr.To(rng.Int32N(4))
		if rng.IntN(2) == 0 {
			e.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxSurge: ptr.To(intstr.FromString("25%"))}
		}
		e.Status = appsv1.DeploymentStatus{Replicas: rng.Int32N(3), ObservedGeneration: rng.Int64N(3),
			Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: fmt.Sprint(rng.IntN(2))}}}
		check(fmt.Sprintf("deployment %d", i), d, e)
	}
	// Deployments whose strategy changes carry an IntOrString, which
	// compareFields does not model; pods whose ports change may lack
	// their keys' default.
	if compared < 6000 {
		t.Fatalf("compareFields compared %d pairs and gave up on %d, want at least 6,000 compared", compared, gaveUp)
	}
	t.Logf("compared %d pairs, gave up on %d", compared, gaveUp)
}

// changePodSpec makes a random change to a pod's spec.
func changePodSpec(rng *rand.Rand, s *corev1.PodSpec) {
	if len(s.Containers) == 0 {
		s.Containers = []corev1.Container{{Name: "web", Image: "busybox"}}
	}
	c := &s.Containers[rng.IntN(len(s.Containers))]
	switch rng.IntN(8) {
	case 0:
		c.Image = fmt.Sprintf("busybox:%d", rng.IntN(3))
	case 1:
		c.Ports = append(c.Ports, corev1.ContainerPort{ContainerPort: rng.Int32N(3) + 80, Protocol: corev1.ProtocolTCP})
	case 2:
		c.Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(fmt.Sprintf("%dMi", 64<<rng.IntN(3)))}
	case 3:
		s.NodeSelector = map[string]string{"zone": fmt.Sprint(rng.IntN(2))}
	case 4:
		c.Args = []string{"--v", fmt.Sprint(rng.IntN(3))}
	case 5:
		// Null and empty differ where a field is not omitted when empty.
		s.Containers = [][]corev1.Container{nil, {}}[rng.IntN(2)]
	case 6:
		s.SecurityContext = [](*corev1.PodSecurityContext){nil, {}, {RunAsUser: ptr.To[int64](1000)}}[rng.IntN(3)]
	case 7:
		c.Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse([]string{"1", "1000m", "500m"}[rng.IntN(3)])}
	}
}

// changeNodeStatus makes a random change of the kinds nodes report.
func changeNodeStatus(rng *rand.Rand, s *corev1.NodeStatus) {
	switch rng.IntN(5) {
	case 0:
		s.Capacity = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse([]string{"1", "1000m", "2"}[rng.IntN(3)]),
			corev1.ResourcePods: resource.MustParse("110")}
		if rng.IntN(2) == 0 {
			// One amount in two formats: they serialize differently.
			s.Capacity[corev1.ResourceMemory] = resource.MustParse([]string{"32Gi", "34359738368"}[rng.IntN(2)])
		}
	case 1:
		kind := []corev1.NodeConditionType{corev1.NodeReady, corev1.NodeMemoryPressure}[rng.IntN(2)]
		cond := corev1.NodeCondition{Type: kind, Status: corev1.ConditionTrue, LastHeartbeatTime: metav1.Unix(1767225600+rng.Int64N(100), 0)}
		s.Conditions = upsert(s.Conditions, cond, func(c corev1.NodeCondition) bool { return c.Type == kind })
	case 2:
		s.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: fmt.Sprintf("10.0.0.%d", rng.IntN(3))}}
	case 3:
		s.Images = append(s.Images, corev1.ContainerImage{Names: []string{fmt.Sprint("image-", rng.IntN(3))}, SizeBytes: rng.Int64N(3)})
	case 4:
		s.NodeInfo.KubeletVersion = fmt.Sprint("v1.3", rng.IntN(3))
		s.DaemonEndpoints.KubeletEndpoint.Port = rng.Int32N(2) * 10250
	}
}

// TestStructFieldsOfGivesUp: the struct shapes compareFields does not
// model make it give up rather than guess.
func TestStructFieldsOfGivesUp(t *testing.T) {
	type inner struct {
		At metav1.Time `json:"at"`
	}
	type unexportedEmbedded struct {
		inner `json:",inline"`
	}
	type untagged struct {
		Name string
	}
	type omitZeroInterface struct {
		V any `json:"v,omitzero"`
	}
	type Exported = inner
	type inlined struct {
		Exported `json:",inline"`
		Name     string `json:"name,omitempty"`
	}
	for name, typ := range map[string]reflect.Type{
		"unexported embedded": reflect.TypeFor[unexportedEmbedded](),
		"untagged":            reflect.TypeFor[untagged](),
		"omitzero interface":  reflect.TypeFor[omitZeroInterface](),
		"custom serialized":   reflect.TypeFor[intstr.IntOrString](),
	} {
		if structFieldsOf(typ) != nil {
			t.Errorf("%s: modeled", name)
		}
	}
	fields := structFieldsOf(reflect.TypeFor[inlined]())
	if fields == nil || fields.byName("at") == nil || fields.byName("name") == nil {
		t.Fatalf("inlined struct's fields: %+v", fields)
	}
}
