package replicaset

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugcluster/tug/internal/controller"
)

func TestStatusBatch(t *testing.T) {
	c := &Controller{}
	c.podCounts.Store("ns/small", 3)
	c.podCounts.Store("ns/big", 30000)
	for key, want := range map[string]time.Duration{
		"ns/unknown": podStatusBatch,
		"ns/small":   podStatusBatch,
		"ns/big":     600 * time.Millisecond,
	} {
		if got := c.statusBatch(key); got != want {
			t.Errorf("statusBatch(%s) = %v, want %v", key, got, want)
		}
	}
}

func TestWalkDelay(t *testing.T) {
	c := &Controller{}
	c.podCounts.Store("ns/small", 3)
	c.podCounts.Store("ns/big", 30000)
	for key, want := range map[string]time.Duration{"ns/unknown": 0, "ns/small": 60 * time.Microsecond, "ns/big": 600 * time.Millisecond} {
		if got := c.walkDelay(key); got != want {
			t.Errorf("walkDelay(%s) = %v, want %v", key, got, want)
		}
	}
}

func TestUpdateOwnerDelaysStatusOnlyChangesOfBigSets(t *testing.T) {
	rs := func(name string, generation int64, deleting bool, ready int32) *appsv1.ReplicaSet {
		r := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, Generation: generation}}
		if deleting {
			r.DeletionTimestamp = &metav1.Time{}
		}
		r.Status.ReadyReplicas = ready
		return r
	}
	for _, tc := range []struct {
		name     string
		old, cur *appsv1.ReplicaSet
		now      bool
	}{
		{"status of a small set", rs("small", 1, false, 1), rs("small", 1, false, 2), true},
		{"status of a big set", rs("big", 1, false, 1), rs("big", 1, false, 2), false},
		{"spec of a big set", rs("big", 1, false, 1), rs("big", 2, false, 1), true},
		{"deletion of a big set", rs("big", 1, false, 1), rs("big", 1, true, 1), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Controller{loop: controller.New("test", 1, nil)}
			c.podCounts.Store("ns/small", 3)
			c.podCounts.Store("ns/big", 30000)
			c.updateOwner(tc.old, tc.cur)
			if got := c.loop.Len() == 1; got != tc.now {
				t.Errorf("queued at once = %v, want %v", got, tc.now)
			}
		})
	}
}
