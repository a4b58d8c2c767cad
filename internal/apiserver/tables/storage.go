package tables

import (
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
)

// storagePrinters are the printers of storage.k8s.io.
func storagePrinters() []*printer {
	gv := storagev1.SchemeGroupVersion
	return []*printer{
		typed(gv.WithKind("StorageClass"), storageClassColumns, storageClassCells),
		typed(gv.WithKind("VolumeAttributesClass"), volumeAttributesClassColumns, volumeAttributesClassCells),
		typed(gv.WithKind("CSIDriver"), csiDriverColumns, csiDriverCells),
		typed(gv.WithKind("CSINode"), csiNodeColumns, csiNodeCells),
		typed(gv.WithKind("CSIStorageCapacity"), csiStorageCapacityColumns, csiStorageCapacityCells),
		typed(gv.WithKind("VolumeAttachment"), volumeAttachmentColumns, volumeAttachmentCells),
	}
}

var storageClassColumns = columns(
	nameColumn(),
	strCol("Provisioner", storagev1.StorageClass{}.SwaggerDoc()["provisioner"]),
	strCol("ReclaimPolicy", storagev1.StorageClass{}.SwaggerDoc()["reclaimPolicy"]),
	strCol("VolumeBindingMode", storagev1.StorageClass{}.SwaggerDoc()["volumeBindingMode"]),
	boolCol("AllowVolumeExpansion", storagev1.StorageClass{}.SwaggerDoc()["allowVolumeExpansion"]),
	ageColumn(),
)

// The annotations that make a storage class the default.
const (
	defaultClassAnnotation     = "storageclass.kubernetes.io/is-default-class"
	betaDefaultClassAnnotation = "storageclass.beta.kubernetes.io/is-default-class"
)

// storageClassCells marks the default class "name (default)" and shows the
// API defaults of unset fields.
func storageClassCells(sc *storagev1.StorageClass, now time.Time) []any {
	name := sc.Name
	if sc.Annotations[defaultClassAnnotation] == "true" || sc.Annotations[betaDefaultClassAnnotation] == "true" {
		name += " (default)"
	}
	reclaim := corev1.PersistentVolumeReclaimDelete
	if sc.ReclaimPolicy != nil {
		reclaim = *sc.ReclaimPolicy
	}
	binding := storagev1.VolumeBindingImmediate
	if sc.VolumeBindingMode != nil {
		binding = *sc.VolumeBindingMode
	}
	expansion := sc.AllowVolumeExpansion != nil && *sc.AllowVolumeExpansion
	return []any{name, sc.Provisioner, string(reclaim), string(binding), expansion, ageSince(sc.CreationTimestamp, now)}
}

var volumeAttributesClassColumns = columns(
	nameColumn(),
	strCol("DriverName", storagev1.VolumeAttributesClass{}.SwaggerDoc()["driverName"]),
	ageColumn(),
)

func volumeAttributesClassCells(c *storagev1.VolumeAttributesClass, now time.Time) []any {
	return []any{c.Name, c.DriverName, ageSince(c.CreationTimestamp, now)}
}

var csiDriverSpecDoc = storagev1.CSIDriverSpec{}.SwaggerDoc()

var csiDriverColumns = columns(
	nameColumn(),
	boolCol("AttachRequired", csiDriverSpecDoc["attachRequired"]),
	boolCol("PodInfoOnMount", csiDriverSpecDoc["podInfoOnMount"]),
	boolCol("StorageCapacity", csiDriverSpecDoc["storageCapacity"]),
	strCol("TokenRequests", csiDriverSpecDoc["tokenRequests"]),
	boolCol("RequiresRepublish", csiDriverSpecDoc["requiresRepublish"]),
	strCol("Modes", csiDriverSpecDoc["volumeLifecycleModes"]),
	ageColumn(),
)

func csiDriverCells(d *storagev1.CSIDriver, now time.Time) []any {
	audiences := make([]string, 0, len(d.Spec.TokenRequests))
	for _, t := range d.Spec.TokenRequests {
		audiences = append(audiences, t.Audience)
	}
	tokenRequests := "<unset>"
	if len(audiences) > 0 {
		tokenRequests = strings.Join(audiences, ",")
	}
	modes := make([]string, 0, len(d.Spec.VolumeLifecycleModes))
	for _, m := range d.Spec.VolumeLifecycleModes {
		modes = append(modes, string(m))
	}
	return []any{
		d.Name,
		d.Spec.AttachRequired == nil || *d.Spec.AttachRequired, // true by default
		d.Spec.PodInfoOnMount != nil && *d.Spec.PodInfoOnMount,
		d.Spec.StorageCapacity != nil && *d.Spec.StorageCapacity,
		tokenRequests,
		d.Spec.RequiresRepublish != nil && *d.Spec.RequiresRepublish,
		orNone(strings.Join(modes, ",")),
		ageSince(d.CreationTimestamp, now),
	}
}

var csiNodeColumns = columns(
	nameColumn(),
	intCol("Drivers", "Drivers indicates the number of CSI drivers registered on the node"),
	ageColumn(),
)

func csiNodeCells(n *storagev1.CSINode, now time.Time) []any {
	return []any{n.Name, int64(len(n.Spec.Drivers)), ageSince(n.CreationTimestamp, now)}
}

var csiStorageCapacityColumns = columns(
	nameColumn(),
	strCol("StorageClassName", storagev1.CSIStorageCapacity{}.SwaggerDoc()["storageClassName"]),
	strCol("Capacity", storagev1.CSIStorageCapacity{}.SwaggerDoc()["capacity"]),
)

func csiStorageCapacityCells(c *storagev1.CSIStorageCapacity, _ time.Time) []any {
	return []any{c.Name, c.StorageClassName, quantityString(c.Capacity)}
}

var volumeAttachmentColumns = columns(
	nameColumn(),
	strCol("Attacher", storagev1.VolumeAttachmentSpec{}.SwaggerDoc()["attacher"]),
	strCol("PV", storagev1.VolumeAttachmentSource{}.SwaggerDoc()["persistentVolumeName"]),
	strCol("Node", storagev1.VolumeAttachmentSpec{}.SwaggerDoc()["nodeName"]),
	boolCol("Attached", storagev1.VolumeAttachmentStatus{}.SwaggerDoc()["attached"]),
	ageColumn(),
)

func volumeAttachmentCells(va *storagev1.VolumeAttachment, now time.Time) []any {
	pv := ""
	if va.Spec.Source.PersistentVolumeName != nil {
		pv = *va.Spec.Source.PersistentVolumeName
	}
	return []any{va.Name, va.Spec.Attacher, pv, va.Spec.NodeName, va.Status.Attached, ageSince(va.CreationTimestamp, now)}
}
