package deployment

import (
	"encoding/binary"
	"encoding/json"
	"hash/fnv"
	"maps"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
)

// templateHash names a pod template: FNV-32a over the template's JSON
// and, after a name collision, the collision count, printed as a decimal
// and re-encoded with the alphabet that avoids vowels and look-alike
// characters. JSON is stable for API types (struct fields in order, map
// keys sorted), so the same template always hashes the same.
func templateHash(t *corev1.PodTemplateSpec, collisionCount *int32) string {
	h := fnv.New32a()
	data, err := json.Marshal(t)
	if err != nil {
		// API types always marshal; fall back to hashing nothing rather
		// than failing a sync.
		data = nil
	}
	_, _ = h.Write(data)
	if collisionCount != nil {
		var buf [4]byte
		binary.LittleEndian.PutUint32(buf[:], uint32(*collisionCount))
		_, _ = h.Write(buf[:])
	}
	return rand.SafeEncodeString(strconv.FormatUint(uint64(h.Sum32()), 10))
}

// equalIgnoreHash reports whether two templates are the same but for the
// pod-template-hash label a ReplicaSet's template carries.
func equalIgnoreHash(a, b *corev1.PodTemplateSpec) bool {
	a1, b1 := *a, *b
	a1.ObjectMeta = withoutHashLabel(a.ObjectMeta)
	b1.ObjectMeta = withoutHashLabel(b.ObjectMeta)
	return apiequality.Semantic.DeepEqual(&a1, &b1)
}

func withoutHashLabel(m metav1.ObjectMeta) metav1.ObjectMeta {
	if _, ok := m.Labels[appsv1.DefaultDeploymentUniqueLabelKey]; ok {
		m.Labels = maps.Clone(m.Labels)
		delete(m.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	}
	return m
}

// withLabel returns a copy of labels with key set to value.
func withLabel(labels map[string]string, key, value string) map[string]string {
	out := make(map[string]string, len(labels)+1)
	maps.Copy(out, labels)
	out[key] = value
	return out
}

// selectorWithLabel returns a copy of sel that also requires key=value.
func selectorWithLabel(sel *metav1.LabelSelector, key, value string) *metav1.LabelSelector {
	out := sel.DeepCopy()
	out.MatchLabels = withLabel(out.MatchLabels, key, value)
	return out
}
