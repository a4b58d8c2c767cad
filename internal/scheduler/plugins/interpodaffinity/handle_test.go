package interpodaffinity

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tugcluster/tug/internal/scheduler/framework"
	"github.com/tugcluster/tug/internal/scheduler/framework/frameworktest"
)

// newPlugin builds the plugin over nodes and starts its informers.
func newPlugin(t testing.TB, nodes []*framework.NodeInfo, objs ...runtime.Object) *InterPodAffinity {
	t.Helper()
	h := frameworktest.NewHandle(nodes, objs...)
	p, err := New(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	h.Start(t)
	return p.(*InterPodAffinity)
}

// makeNode returns a NodeInfo for a node with labels, holding pods.
func makeNode(name string, nodeLabels map[string]string, pods ...*corev1.Pod) *framework.NodeInfo {
	return frameworktest.MakeNode().Name(name).Labels(nodeLabels).NodeInfo(pods...)
}

// makePod starts a pod in ns with the label pairs podLabels and a UID
// unique to ns/name.
func makePod(ns, name string, podLabels ...string) *frameworktest.PodBuilder {
	return frameworktest.MakePod().Namespace(ns).Name(name).UID(ns + "/" + name).Labels(podLabels...)
}

func namespace(name string, nsLabels map[string]string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: nsLabels}}
}

// term selects app=app in key; modify can adjust it.
func term(key, app string, modify ...func(*corev1.PodAffinityTerm)) corev1.PodAffinityTerm {
	return frameworktest.Term(key, app, modify...)
}
