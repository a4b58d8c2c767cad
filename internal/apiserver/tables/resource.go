package tables

import (
	"strings"
	"time"

	resourcev1 "k8s.io/api/resource/v1"
)

// resourcePrinters are the printers of dynamic resource allocation
// (resource.k8s.io).
func resourcePrinters() []*printer {
	gv := resourcev1.SchemeGroupVersion
	return []*printer{
		typed(gv.WithKind("ResourceClaim"), resourceClaimColumns, resourceClaimCells),
		typed(gv.WithKind("ResourceSlice"), resourceSliceColumns, resourceSliceCells),
		typed(gv.WithKind("ResourceClaimTemplate"), columns(nameColumn(), ageColumn()),
			func(t *resourcev1.ResourceClaimTemplate, now time.Time) []any {
				return []any{t.Name, ageSince(t.CreationTimestamp, now)}
			}),
		typed(gv.WithKind("DeviceClass"), columns(nameColumn(), ageColumn()),
			func(c *resourcev1.DeviceClass, now time.Time) []any {
				return []any{c.Name, ageSince(c.CreationTimestamp, now)}
			}),
	}
}

var resourceClaimColumns = columns(
	nameColumn(),
	strCol("State", "A summary of the current state (allocated, pending, reserved, etc.)."),
	ageColumn(),
)

// resourceClaimCells sums up a claim's state: "pending" until allocated,
// then "allocated" and ",reserved" while a pod uses it; "deleted" first
// while it is being deleted.
func resourceClaimCells(c *resourcev1.ResourceClaim, now time.Time) []any {
	var states []string
	if c.DeletionTimestamp != nil {
		states = append(states, "deleted")
	}
	if c.Status.Allocation == nil {
		if c.DeletionTimestamp == nil {
			states = append(states, "pending")
		}
	} else {
		states = append(states, "allocated")
		if len(c.Status.ReservedFor) > 0 {
			states = append(states, "reserved")
		}
	}
	return []any{c.Name, strings.Join(states, ","), ageSince(c.CreationTimestamp, now)}
}

var resourceSliceColumns = columns(
	nameColumn(),
	strCol("Node", resourcev1.ResourceSliceSpec{}.SwaggerDoc()["nodeName"]),
	strCol("Driver", resourcev1.ResourceSliceSpec{}.SwaggerDoc()["driver"]),
	strCol("Pool", resourcev1.ResourcePool{}.SwaggerDoc()["name"]),
	ageColumn(),
)

func resourceSliceCells(s *resourcev1.ResourceSlice, now time.Time) []any {
	node := "<none>"
	if s.Spec.NodeName != nil && *s.Spec.NodeName != "" {
		node = *s.Spec.NodeName
	}
	return []any{s.Name, node, s.Spec.Driver, s.Spec.Pool.Name, ageSince(s.CreationTimestamp, now)}
}
