package noderesources

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// rl builds a ResourceList from name, quantity pairs.
func rl(kv ...string) corev1.ResourceList {
	out := corev1.ResourceList{}
	for i := 0; i+1 < len(kv); i += 2 {
		out[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return out
}

func ctr(requests corev1.ResourceList) corev1.Container {
	return corev1.Container{Name: "c", Resources: corev1.ResourceRequirements{Requests: requests}}
}

// podReq is a pod with one container per request list.
func podReq(uid string, requests ...corev1.ResourceList) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: uid, UID: types.UID(uid)}}
	for _, r := range requests {
		p.Spec.Containers = append(p.Spec.Containers, ctr(r))
	}
	return p
}

// nodeInfo is a node with allocatable alloc running pods.
func nodeInfo(alloc corev1.ResourceList, pods ...*corev1.Pod) *framework.NodeInfo {
	ni := framework.NewNodeInfo(pods...)
	ni.SetNode(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Status: corev1.NodeStatus{Allocatable: alloc}})
	return ni
}

func mustFit(t testing.TB) *Fit {
	t.Helper()
	p, err := NewFit(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return p.(*Fit)
}

func mustBalanced(t testing.TB) *BalancedAllocation {
	t.Helper()
	p, err := NewBalancedAllocation(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return p.(*BalancedAllocation)
}
