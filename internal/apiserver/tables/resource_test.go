package tables

import (
	"testing"
	"time"

	resourcev1 "k8s.io/api/resource/v1"
)

func TestResourceClaimCells(t *testing.T) {
	deleting := om("del")
	deleting.DeletionTimestamp = agoPtr(time.Second)
	deletingAllocated := om("del-alloc")
	deletingAllocated.DeletionTimestamp = agoPtr(time.Second)
	runCellCases(t, []cellCase{
		{"pending", &resourcev1.ResourceClaim{ObjectMeta: om("gpu")}, []any{"gpu", "pending", "5m"}},
		{"allocated", &resourcev1.ResourceClaim{ObjectMeta: om("a"), Status: resourcev1.ResourceClaimStatus{Allocation: &resourcev1.AllocationResult{}}},
			[]any{"a", "allocated", "5m"}},
		{"reserved", &resourcev1.ResourceClaim{ObjectMeta: om("r"), Status: resourcev1.ResourceClaimStatus{
			Allocation: &resourcev1.AllocationResult{}, ReservedFor: []resourcev1.ResourceClaimConsumerReference{{Resource: "pods", Name: "p"}},
		}}, []any{"r", "allocated,reserved", "5m"}},
		{"deleted", &resourcev1.ResourceClaim{ObjectMeta: deleting}, []any{"del", "deleted", "5m"}},
		{"deleted while allocated", &resourcev1.ResourceClaim{ObjectMeta: deletingAllocated, Status: resourcev1.ResourceClaimStatus{Allocation: &resourcev1.AllocationResult{}}},
			[]any{"del-alloc", "deleted,allocated", "5m"}},
	})
}

func TestResourceSliceAndClassCells(t *testing.T) {
	runCellCases(t, []cellCase{
		{"node local", &resourcev1.ResourceSlice{ObjectMeta: om("node-1-gpu"), Spec: resourcev1.ResourceSliceSpec{
			NodeName: ptr("node-1"), Driver: "gpu.example.com", Pool: resourcev1.ResourcePool{Name: "node-1"},
		}}, []any{"node-1-gpu", "node-1", "gpu.example.com", "node-1", "5m"}},
		{"all nodes", &resourcev1.ResourceSlice{ObjectMeta: om("net"), Spec: resourcev1.ResourceSliceSpec{
			AllNodes: ptr(true), Driver: "net.example.com", Pool: resourcev1.ResourcePool{Name: "fabric"},
		}}, []any{"net", "<none>", "net.example.com", "fabric", "5m"}},
	})
	runCellCases(t, []cellCase{
		{"class", &resourcev1.DeviceClass{ObjectMeta: om("gpu")}, []any{"gpu", "5m"}},
	})
	runCellCases(t, []cellCase{
		{"template", &resourcev1.ResourceClaimTemplate{ObjectMeta: om("tmpl")}, []any{"tmpl", "5m"}},
	})
}
