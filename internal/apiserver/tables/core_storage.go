package tables

import (
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// coreStoragePrinters are the printers of persistent volumes and claims.
func coreStoragePrinters() []*printer {
	gv := corev1.SchemeGroupVersion
	return []*printer{
		typed(gv.WithKind("PersistentVolume"), persistentVolumeColumns, persistentVolumeCells),
		typed(gv.WithKind("PersistentVolumeClaim"), persistentVolumeClaimColumns, persistentVolumeClaimCells),
	}
}

var (
	pvSpecDoc  = corev1.PersistentVolumeSpec{}.SwaggerDoc()
	pvcSpecDoc = corev1.PersistentVolumeClaimSpec{}.SwaggerDoc()
)

var persistentVolumeColumns = columns(
	nameColumn(),
	strCol("Capacity", pvSpecDoc["capacity"]),
	strCol("Access Modes", pvSpecDoc["accessModes"]),
	strCol("Reclaim Policy", pvSpecDoc["persistentVolumeReclaimPolicy"]),
	strCol("Status", corev1.PersistentVolumeStatus{}.SwaggerDoc()["phase"]),
	strCol("Claim", pvSpecDoc["claimRef"]),
	strCol("StorageClass", "StorageClass of the pv"),
	strCol("VolumeAttributesClass", pvSpecDoc["volumeAttributesClassName"]),
	strCol("Reason", corev1.PersistentVolumeStatus{}.SwaggerDoc()["reason"]),
	ageColumn(),
	wide(strCol("VolumeMode", pvSpecDoc["volumeMode"])),
)

// betaStorageClassAnnotation is the annotation that named a volume's class
// before storageClassName existed; it still wins when set.
const betaStorageClassAnnotation = "volume.beta.kubernetes.io/storage-class"

func persistentVolumeCells(pv *corev1.PersistentVolume, now time.Time) []any {
	claim := ""
	if ref := pv.Spec.ClaimRef; ref != nil {
		claim = ref.Namespace + "/" + ref.Name
	}
	status := string(pv.Status.Phase)
	if pv.DeletionTimestamp != nil {
		status = "Terminating"
	}
	class := pv.Spec.StorageClassName
	if c, ok := pv.Annotations[betaStorageClassAnnotation]; ok {
		class = c
	}
	capacity := pv.Spec.Capacity[corev1.ResourceStorage]
	return []any{
		pv.Name,
		capacity.String(),
		accessModes(pv.Spec.AccessModes),
		string(pv.Spec.PersistentVolumeReclaimPolicy),
		status,
		claim,
		class,
		orUnset(pv.Spec.VolumeAttributesClassName),
		pv.Status.Reason,
		ageSince(pv.CreationTimestamp, now),
		orUnset(pv.Spec.VolumeMode),
	}
}

var persistentVolumeClaimColumns = columns(
	nameColumn(),
	strCol("Status", corev1.PersistentVolumeClaimStatus{}.SwaggerDoc()["phase"]),
	strCol("Volume", pvcSpecDoc["volumeName"]),
	strCol("Capacity", corev1.PersistentVolumeClaimStatus{}.SwaggerDoc()["capacity"]),
	strCol("Access Modes", corev1.PersistentVolumeClaimStatus{}.SwaggerDoc()["accessModes"]),
	strCol("StorageClass", pvcSpecDoc["storageClassName"]),
	strCol("VolumeAttributesClass", corev1.PersistentVolumeClaimStatus{}.SwaggerDoc()["currentVolumeAttributesClassName"]),
	ageColumn(),
	wide(strCol("VolumeMode", pvcSpecDoc["volumeMode"])),
)

func persistentVolumeClaimCells(pvc *corev1.PersistentVolumeClaim, now time.Time) []any {
	status := string(pvc.Status.Phase)
	if pvc.DeletionTimestamp != nil {
		status = "Terminating"
	}
	// Capacity and access modes are the bound volume's, so only shown
	// once the claim is bound.
	capacity, modes := "", ""
	if pvc.Spec.VolumeName != "" {
		q := pvc.Status.Capacity[corev1.ResourceStorage]
		capacity, modes = q.String(), accessModes(pvc.Status.AccessModes)
	}
	class := ""
	if pvc.Spec.StorageClassName != nil {
		class = *pvc.Spec.StorageClassName
	}
	if c, ok := pvc.Annotations[betaStorageClassAnnotation]; ok {
		class = c
	}
	return []any{
		pvc.Name,
		status,
		pvc.Spec.VolumeName,
		capacity,
		modes,
		class,
		orUnset(pvc.Status.CurrentVolumeAttributesClassName),
		ageSince(pvc.CreationTimestamp, now),
		orUnset(pvc.Spec.VolumeMode),
	}
}

// accessModes abbreviates access modes as kubectl does, always in the
// order RWO, ROX, RWX, RWOP and without repeats.
func accessModes(modes []corev1.PersistentVolumeAccessMode) string {
	has := map[corev1.PersistentVolumeAccessMode]bool{}
	for _, m := range modes {
		has[m] = true
	}
	var out []string
	for _, m := range []struct {
		mode  corev1.PersistentVolumeAccessMode
		short string
	}{
		{corev1.ReadWriteOnce, "RWO"},
		{corev1.ReadOnlyMany, "ROX"},
		{corev1.ReadWriteMany, "RWX"},
		{corev1.ReadWriteOncePod, "RWOP"},
	} {
		if has[m.mode] {
			out = append(out, m.short)
		}
	}
	return strings.Join(out, ",")
}
