package tables

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
)

func TestStorageClassCells(t *testing.T) {
	def := om("standard")
	def.Annotations = map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}
	betaDef := om("old")
	betaDef.Annotations = map[string]string{"storageclass.beta.kubernetes.io/is-default-class": "true"}
	runCellCases(t, []cellCase{
		{"default class", &storagev1.StorageClass{
			ObjectMeta: def, Provisioner: "rancher.io/local-path",
			ReclaimPolicy: ptr(corev1.PersistentVolumeReclaimRetain), VolumeBindingMode: ptr(storagev1.VolumeBindingWaitForFirstConsumer), AllowVolumeExpansion: ptr(true),
		}, []any{"standard (default)", "rancher.io/local-path", "Retain", "WaitForFirstConsumer", true, "5m"}},
		{"api defaults", &storagev1.StorageClass{ObjectMeta: om("fast"), Provisioner: "csi.example.com"},
			[]any{"fast", "csi.example.com", "Delete", "Immediate", false, "5m"}},
		{"beta default annotation", &storagev1.StorageClass{ObjectMeta: betaDef, Provisioner: "p"},
			[]any{"old (default)", "p", "Delete", "Immediate", false, "5m"}},
	})
}

func TestCSIAndVolumeCells(t *testing.T) {
	runCellCases(t, []cellCase{
		{"everything set", &storagev1.CSIDriver{ObjectMeta: om("csi.example.com"), Spec: storagev1.CSIDriverSpec{
			AttachRequired: ptr(false), PodInfoOnMount: ptr(true), StorageCapacity: ptr(true), RequiresRepublish: ptr(true),
			TokenRequests:        []storagev1.TokenRequest{{Audience: "vault"}, {Audience: "aws"}},
			VolumeLifecycleModes: []storagev1.VolumeLifecycleMode{storagev1.VolumeLifecyclePersistent, storagev1.VolumeLifecycleEphemeral},
		}}, []any{"csi.example.com", false, true, true, "vault,aws", true, "Persistent,Ephemeral", "5m"}},
		{"defaults", &storagev1.CSIDriver{ObjectMeta: om("plain")},
			[]any{"plain", true, false, false, "<unset>", false, "<none>", "5m"}},
	})
	runCellCases(t, []cellCase{
		{"csinode", &storagev1.CSINode{ObjectMeta: om("node-1"), Spec: storagev1.CSINodeSpec{Drivers: []storagev1.CSINodeDriver{{Name: "a"}, {Name: "b"}}}},
			[]any{"node-1", int64(2), "5m"}},
	})
	runCellCases(t, []cellCase{
		{"capacity", &storagev1.CSIStorageCapacity{ObjectMeta: om("cap-1"), StorageClassName: "fast", Capacity: quantity("100Gi")},
			[]any{"cap-1", "fast", "100Gi"}},
		{"unknown capacity", &storagev1.CSIStorageCapacity{ObjectMeta: om("cap-2"), StorageClassName: "fast"},
			[]any{"cap-2", "fast", "<unset>"}},
	})
	runCellCases(t, []cellCase{
		{"attached", &storagev1.VolumeAttachment{ObjectMeta: om("csi-123"), Spec: storagev1.VolumeAttachmentSpec{
			Attacher: "csi.example.com", NodeName: "node-1", Source: storagev1.VolumeAttachmentSource{PersistentVolumeName: ptr("pv-1")},
		}, Status: storagev1.VolumeAttachmentStatus{Attached: true}}, []any{"csi-123", "csi.example.com", "pv-1", "node-1", true, "5m"}},
		{"inline", &storagev1.VolumeAttachment{ObjectMeta: om("csi-456"), Spec: storagev1.VolumeAttachmentSpec{Attacher: "a", NodeName: "n"}},
			[]any{"csi-456", "a", "", "n", false, "5m"}},
	})
	runCellCases(t, []cellCase{
		{"vac", &storagev1.VolumeAttributesClass{ObjectMeta: om("gold"), DriverName: "csi.example.com"}, []any{"gold", "csi.example.com", "5m"}},
	})
}
